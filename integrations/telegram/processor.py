"""One Telegram update, start to finish: classify, download media, run the engine, queue replies.

Shared by the webhook and the polling loop. `process` raises when the update could not be
handled (the webhook then answers 500 so Telegram retries); the engine's de-duplication on
the update_id makes those retries safe. Replies are queued on the channel, not awaited.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from telegram import Bot, Update
from telegram.error import BadRequest, TelegramError

from bot.messages import Media, Outbound
from bot.ratelimit import RateLimiter
from integrations.telegram.channel import TelegramChannel
from integrations.telegram.inbound import CHANNEL, Handle, Ignore, MediaRef, Notice, Unreachable, classify

if TYPE_CHECKING:
    from bot.context import AppContext
    from bot.engine import Engine

log = logging.getLogger(__name__)

GROUP_NOTICE_INTERVAL_SECONDS = 3600.0
DOWNLOAD_TIMEOUT_SECONDS = 60.0


async def download(bot: Bot, ref: MediaRef, max_bytes: int) -> Media:
    """The file's bytes, or a Media with `error` ("too_large" / "download_failed") and no data."""
    media = Media(kind=ref.kind, mime=ref.mime, filename=ref.filename, source_ref=ref.file_id)
    limit = min(max_bytes, 20 * 1024 * 1024)  # the Bot API serves at most 20 MB
    if ref.file_size is not None and ref.file_size > limit:
        media.error = "too_large"
        return media
    try:
        file = await bot.get_file(ref.file_id)
        if file.file_size is not None and file.file_size > limit:
            media.error = "too_large"
            return media
        data = bytes(await file.download_as_bytearray(read_timeout=DOWNLOAD_TIMEOUT_SECONDS))
    except BadRequest as exc:
        media.error = "too_large" if "too big" in exc.message.lower() else "download_failed"
        log.warning("telegram getFile refused file=%s: %s", ref.file_id[:16], exc)
        return media
    except (TelegramError, OSError) as exc:
        media.error = "download_failed"
        log.warning("telegram download failed file=%s: %s", ref.file_id[:16], exc)
        return media
    if len(data) > limit:
        media.error = "too_large"
    elif not data:
        media.error = "download_failed"
    else:
        media.data = data
    return media


class UpdateProcessor:
    def __init__(self, ctx: AppContext, engine: Engine, channel: TelegramChannel, limiter: RateLimiter) -> None:
        self._ctx = ctx
        self._engine = engine
        self._channel = channel
        self._limiter = limiter

    async def process(self, update: Update) -> None:
        """Handle one update; raises when it should be retried (nothing has been stored)."""
        decision = classify(update)
        if isinstance(decision, Handle):
            await self._handle(decision)
        elif isinstance(decision, Notice):
            await self._notice(update.update_id, decision)
        elif isinstance(decision, Unreachable):
            await self._channel_unreachable(decision.user_id)
        elif isinstance(decision, Ignore):
            if decision.callback_query_id:
                await self._channel.answer_callback(decision.callback_query_id)
            log.debug("telegram update %s ignored: %s", update.update_id, decision.reason)

    async def fail(self, update: Update, exc: BaseException) -> None:
        """After `process` raised: tell the user once per update (a retry may still succeed)."""
        user = update.effective_user
        chat = update.effective_chat
        if user is None or chat is None or chat.type != chat.PRIVATE:
            return
        ttl = self._ctx.settings.dedupe_ttl_hours * 3600
        try:
            if await self._ctx.dedupe.claim(f"{CHANNEL}:error:{update.update_id}", ttl):
                self._channel.send_later(str(chat.id), [self._engine.error_reply(user.language_code)])
        except Exception:
            log.exception("could not queue the error reply update=%s", update.update_id)

    async def _handle(self, decision: Handle) -> None:
        inbound = decision.inbound
        if decision.callback_query_id:
            await self._channel.answer_callback(decision.callback_query_id)
        max_bytes = self._ctx.settings.max_media_bytes
        inbound.media = [await download(self._channel.bot, ref, max_bytes) for ref in decision.media]
        replies = await self._engine.handle(inbound)
        if not replies:
            return  # a duplicate (already handled) or nothing to say
        self._channel.send_later(inbound.user_id, replies)

    async def _notice(self, update_id: int, notice: Notice) -> None:
        if notice.group:
            wait = await self._limiter.try_acquire(
                f"tg:groupnotice:{notice.chat_id}", 1.0 / GROUP_NOTICE_INTERVAL_SECONDS, 1
            )
            if wait > 0:
                return
        ttl = self._ctx.settings.dedupe_ttl_hours * 3600
        if not await self._ctx.dedupe.claim(f"{CHANNEL}:{update_id}", ttl):
            return
        text = self._ctx.i18n.t(notice.locale, notice.key)
        self._channel.send_later(notice.chat_id, [Outbound(text)])

    async def _channel_unreachable(self, user_id: str) -> None:
        mark = getattr(self._ctx.store.citizens, "mark_unreachable", None)
        if mark is not None:
            await mark(CHANNEL, user_id)
            log.info("telegram user blocked the bot; marked unreachable")
