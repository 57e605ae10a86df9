"""`POST /telegram/webhook`: authenticate, parse, process, answer.

403 without the right `X-Telegram-Bot-Api-Secret-Token` (compared in constant time), 400 for
bodies that are not an Update, 500 when handling failed before anything was stored (Telegram
retries; the update_id de-duplication makes that safe), 200 otherwise — replies go out after
the answer, so Telegram never waits on our rate limits.
"""

from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web
from telegram import Bot, Update

from integrations.telegram.processor import UpdateProcessor

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1024 * 1024  # updates are a few KB; files come by getFile, never in the body


def parse_update(body: bytes, bot: Bot) -> Update | None:
    """The Update in `body`, or None when it is not JSON or not shaped like an Update."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    update_id = data.get("update_id") if isinstance(data, dict) else None
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return None
    try:
        return Update.de_json(data, bot)
    except Exception as exc:  # PTB raises TypeError/KeyError/AttributeError on malformed parts
        log.warning("telegram update %s not understood: %s", update_id, exc)
        return None


class WebhookHandler:
    """The aiohttp view; `secret` None refuses everything (a webhook must be authenticated)."""

    def __init__(self, processor: UpdateProcessor, bot: Bot, secret: str | None) -> None:
        self._processor = processor
        self._bot = bot
        self._secret = secret.encode() if secret else None
        if self._secret is None:
            log.error("TIENGDAN_TELEGRAM_SECRET is not set: the Telegram webhook refuses every request")

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if self._secret is None or not hmac.compare_digest(given, self._secret):
            log.warning("telegram webhook: bad or missing secret from %s", request.remote)
            return web.Response(status=403, text="forbidden")
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return web.Response(status=413, text="too large")
        body = await request.content.read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            return web.Response(status=413, text="too large")
        update = parse_update(body, self._bot)
        if update is None:
            log.warning("telegram webhook: body is not an Update (%d bytes)", len(body))
            return web.Response(status=400, text="not a Telegram update")
        try:
            await self._processor.process(update)
        except Exception as exc:
            log.exception("telegram update %s failed; asking Telegram to retry", update.update_id)
            await self._processor.fail(update, exc)
            return web.Response(status=500, text="retry")
        return web.Response(status=200, text="ok")
