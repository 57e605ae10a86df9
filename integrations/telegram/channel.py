"""TelegramChannel: delivers `Outbound` messages through the Bot API, in order and within limits.

Every send to a chat goes through one per-chat queue (strict order, also across a 429 wait)
and two token buckets: the chat's (~1 msg/s, short bursts) and the bot's global one
(`telegram_rate_per_second`). A 429 waits `retry_after` and retries the same message; when
retries run out the caller gets `RetryLater`, and 400/403 become `PermanentSendError`.
Used for direct replies (`send_later`, so the webhook answers at once) and by the outbox
worker for proactive messages (`send`).
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from telegram import Bot, InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBDeprecationWarning

from bot.errors import PermanentSendError, RetryLater
from bot.messages import Outbound
from bot.ratelimit import RateLimiter
from integrations.telegram.inbound import CHANNEL
from integrations.telegram.keyboard import KeyboardFlags
from integrations.telegram.render import CAPTION_LIMIT, inline_keyboard, request_keyboard, split_text

if TYPE_CHECKING:
    from bot.context import AppContext

log = logging.getLogger(__name__)

T = TypeVar("T")
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove

GLOBAL_BUCKET = "tg:global"


def chat_bucket(chat_id: str) -> str:
    return f"tg:chat:{chat_id}"


def retry_after_seconds(exc: RetryAfter) -> float:
    """`RetryAfter.retry_after` as seconds, int or timedelta (PTB is migrating the type)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramChannel:
    """`bot.channels.Channel` for Telegram private chats (chat id == user id)."""

    name = CHANNEL

    def __init__(
        self,
        bot: Bot,
        ctx: AppContext,
        *,
        limiter: RateLimiter,
        keyboards: KeyboardFlags,
        chat_burst: int = 3,
        global_burst: int = 1,
        max_retries: int = 5,
        max_retry_wait: float = 60.0,
    ) -> None:
        self.bot = bot
        self._ctx = ctx
        self._limiter = limiter
        self._keyboards = keyboards
        self._chat_rate = ctx.settings.telegram_per_chat_per_second
        self._chat_burst = chat_burst
        self._global_rate = ctx.settings.telegram_rate_per_second
        self._global_burst = global_burst
        self._max_retries = max_retries
        self._max_retry_wait = max_retry_wait
        self._media_dir = ctx.settings.media_dir.resolve()
        self._tails: dict[str, asyncio.Future[None]] = {}
        self._pending: set[asyncio.Task[None]] = set()

    # --- public API ----------------------------------------------------------------------
    async def send(self, user_id: str, messages: Sequence[Outbound]) -> None:
        """Deliver `messages` in order, after anything already queued for this chat.

        Raises `RetryLater` (flood control or network trouble outlasted the retries) or
        `PermanentSendError` (blocked, unknown chat, refused content). Messages before the
        failing one have been delivered.
        """
        previous, done = self._enqueue(user_id)
        await self._run(user_id, messages, previous, done)

    def send_later(self, user_id: str, messages: Sequence[Outbound]) -> None:
        """Queue replies and return at once (the webhook answers Telegram without waiting).

        Failures are logged; order with later sends to the same chat is kept.
        """
        if not messages:
            return
        previous, done = self._enqueue(user_id)
        task = asyncio.create_task(self._run_logged(user_id, list(messages), previous, done))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def drain(self, limit_seconds: float | None = None) -> None:
        """Wait until queued replies are out (shutdown, tests)."""
        while self._pending:
            done, _ = await asyncio.wait(set(self._pending), timeout=limit_seconds)
            if not done:
                log.warning("telegram drain timed out with %d sends pending", len(self._pending))
                return

    async def answer_callback(self, callback_query_id: str) -> None:
        """Stop the button's spinner. Never raises: a stale or repeated query is harmless."""
        try:
            await self.bot.answer_callback_query(callback_query_id)
        except TelegramError as exc:
            log.info("answerCallbackQuery failed: %s", exc)

    # --- ordering ------------------------------------------------------------------------
    def _enqueue(self, chat_id: str) -> tuple[asyncio.Future[None] | None, asyncio.Future[None]]:
        """Take a place in the chat's queue synchronously, so call order is delivery order."""
        previous = self._tails.get(chat_id)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[chat_id] = done
        return previous, done

    async def _run(self, chat_id: str, messages: Sequence[Outbound], previous: asyncio.Future[None] | None,
                   done: asyncio.Future[None]) -> None:
        try:
            if previous is not None and not previous.done():
                await asyncio.wait([previous])
            for message in messages:
                await self._send_one(chat_id, message)
        finally:
            if not done.done():
                done.set_result(None)
            if self._tails.get(chat_id) is done:
                del self._tails[chat_id]

    async def _run_logged(self, chat_id: str, messages: Sequence[Outbound],
                          previous: asyncio.Future[None] | None, done: asyncio.Future[None]) -> None:
        try:
            await self._run(chat_id, messages, previous, done)
        except (RetryLater, PermanentSendError) as exc:
            log.warning("telegram reply not delivered chat=%s: %s", chat_id, exc)
        except Exception:
            log.exception("telegram reply failed chat=%s", chat_id)

    # --- one message ---------------------------------------------------------------------
    async def _send_one(self, chat_id: str, out: Outbound) -> None:
        markup: Markup | None = None
        shows_keyboard = removes_keyboard = False
        if out.request_location or out.request_contact:
            locale = await self._locale(chat_id)
            t = self._ctx.i18n.t
            markup = request_keyboard(
                out.buttons,
                location_label=t(locale, "telegram.button.location") if out.request_location else None,
                contact_label=t(locale, "telegram.button.contact") if out.request_contact else None,
            )
            shows_keyboard = True
        elif out.buttons:
            markup = inline_keyboard(out.buttons)
        elif await self._keyboards.is_marked(chat_id):
            markup = ReplyKeyboardRemove()
            removes_keyboard = True

        try:
            await self._send_content(chat_id, out, out.text, markup)
        except PermanentSendError as exc:
            if not isinstance(exc.__cause__, BadRequest) or markup is None or isinstance(markup, ReplyKeyboardRemove):
                raise
            # A keyboard Telegram refuses must not cost the user the message: numbered text instead.
            log.warning("keyboard refused (%s); sending numbered text chat=%s", exc, chat_id)
            await self._send_content(chat_id, out, out.numbered_text(), None)
            return
        if shows_keyboard:
            await self._keyboards.mark(chat_id)
        elif removes_keyboard:
            await self._keyboards.clear(chat_id)

    async def _send_content(self, chat_id: str, out: Outbound, text: str, markup: Markup | None) -> None:
        chunks = split_text(text)
        if out.image:
            photo = await self._photo(out.image)
            if photo is not None:
                caption = chunks[0] if len(chunks) == 1 and len(chunks[0]) <= CAPTION_LIMIT else None
                try:
                    await self._call(chat_id, lambda: self.bot.send_photo(
                        chat_id, photo, caption=caption, reply_markup=markup if caption else None))
                except PermanentSendError as exc:
                    if not isinstance(exc.__cause__, BadRequest):
                        raise
                    log.warning("photo refused (%s); sending the text alone chat=%s", exc, chat_id)
                else:
                    if caption is not None:
                        return
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            await self._call(chat_id, lambda chunk=chunk, last=last: self.bot.send_message(  # type: ignore[misc]
                chat_id, chunk, reply_markup=markup if last else None))

    async def _photo(self, image: str) -> str | bytes | None:
        """A URL as is, or the bytes of a file inside the media dir (anything else is refused)."""
        if image.startswith(("https://", "http://")):
            return image
        path = Path(image)
        if not path.is_absolute():
            path = self._media_dir / path
        path = path.resolve()
        if not path.is_relative_to(self._media_dir) or not path.is_file():
            log.warning("image outside the media dir or missing: %s", image[:200])
            return None
        return await asyncio.to_thread(path.read_bytes)

    # --- one API call: limits, retries, error mapping -----------------------------------------
    async def _call(self, chat_id: str, request: Callable[[], Awaitable[T]]) -> T:
        attempt = 0
        while True:
            await self._limiter.acquire(chat_bucket(chat_id), self._chat_rate, self._chat_burst)
            await self._limiter.acquire(GLOBAL_BUCKET, self._global_rate, self._global_burst)
            try:
                return await request()
            except RetryAfter as exc:
                wait = retry_after_seconds(exc)
                if attempt >= self._max_retries or wait > self._max_retry_wait:
                    raise RetryLater(f"telegram flood control: retry after {wait:g}s", retry_after=wait) from exc
                log.info("telegram 429 chat=%s: waiting %.1fs (attempt %d)", chat_id, wait, attempt + 1)
                await asyncio.sleep(wait)
            except Forbidden as exc:
                await self._unreachable(chat_id)
                raise PermanentSendError(f"telegram refused: {exc.message}") from exc
            except (BadRequest, ChatMigrated) as exc:
                raise PermanentSendError(f"telegram bad request: {exc}") from exc
            except NetworkError as exc:  # TimedOut included; BadRequest handled above
                if attempt >= 3:
                    raise RetryLater(f"telegram unreachable: {exc}") from exc
                await asyncio.sleep(min(2.0 ** attempt, 10.0))
            except TelegramError as exc:  # InvalidToken, EndPointNotFound…: configuration, not the message
                raise RetryLater(f"telegram error: {exc}", retry_after=60.0) from exc
            attempt += 1

    async def _unreachable(self, chat_id: str) -> None:
        mark = getattr(self._ctx.store.citizens, "mark_unreachable", None)
        if mark is None:
            return
        try:
            await mark(CHANNEL, chat_id)
        except Exception:
            log.exception("could not mark telegram chat unreachable chat=%s", chat_id)

    async def _locale(self, chat_id: str) -> str:
        """The language the conversation runs in: the session's, else the citizen's."""
        ctx = self._ctx
        try:
            session = await ctx.sessions.load(f"{CHANNEL}:{chat_id}")
            if session is not None and session.locale:
                return session.locale
            identity = await ctx.store.citizens.identity_for(CHANNEL, chat_id)
            if identity is not None:
                citizen = await ctx.store.citizens.get(identity.citizen_id)
                if citizen is not None:
                    return citizen.locale
        except Exception:
            log.exception("locale lookup failed chat=%s", chat_id)
        return ctx.i18n.default_locale
