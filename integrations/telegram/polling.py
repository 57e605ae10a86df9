"""Long polling for development without a public URL (`tiengdan serve --telegram-polling`).

The offset advances only past updates that were handled (or retried `attempts` times), so a
restart or a failure does not lose messages.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut

from integrations.telegram.channel import retry_after_seconds
from integrations.telegram.processor import UpdateProcessor

log = logging.getLogger(__name__)


async def run_polling(bot: Bot, processor: UpdateProcessor, *, allowed_updates: Sequence[str],
                      poll_timeout: int = 25, attempts: int = 3) -> None:
    """Fetch and handle updates until cancelled. Removes a registered webhook first."""
    await bot.delete_webhook(drop_pending_updates=False)
    log.info("telegram polling started")
    offset: int | None = None
    backoff = 1.0
    while True:
        try:
            updates = await bot.get_updates(offset=offset, timeout=poll_timeout,
                                            allowed_updates=list(allowed_updates))
            backoff = 1.0
        except TimedOut:
            continue
        except InvalidToken:
            log.error("telegram polling stopped: the token was rejected")
            raise
        except RetryAfter as exc:
            await asyncio.sleep(retry_after_seconds(exc))
            continue
        except (NetworkError, TelegramError) as exc:
            log.warning("telegram getUpdates failed (%s); retrying in %.0fs", exc, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 60.0)
            continue
        for update in updates:
            for attempt in range(1, attempts + 1):
                try:
                    await processor.process(update)
                    break
                except Exception as exc:
                    log.exception("telegram update %s failed (attempt %d)", update.update_id, attempt)
                    if attempt == attempts:
                        await processor.fail(update, exc)
                    else:
                        await asyncio.sleep(attempt)
            offset = update.update_id + 1
