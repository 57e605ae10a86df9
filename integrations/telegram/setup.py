"""Composition of the Telegram channel into the aiohttp server (called by bot/server.py).

Builds the PTB `Application` without an Updater (our aiohttp server receives the webhook),
the channel, and the route; the PTB application starts and stops with the aiohttp app.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from telegram import Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application, ApplicationBuilder

from bot.config import Settings
from bot.context import AppContext
from bot.engine import Engine
from bot.errors import ConfigError
from bot.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from integrations.telegram.channel import TelegramChannel
from integrations.telegram.keyboard import KeyboardFlags, MemoryKeyboardFlags, RedisKeyboardFlags
from integrations.telegram.polling import run_polling
from integrations.telegram.processor import UpdateProcessor
from integrations.telegram.webhook import WEBHOOK_PATH, WebhookHandler

log = logging.getLogger(__name__)

ALLOWED_UPDATES: tuple[str, ...] = (
    Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER,
)
STARTUP_RETRY_SECONDS = 30.0
DRAIN_SECONDS = 10.0



def build_application(settings: Settings) -> Application:  # type: ignore[type-arg]
    """A PTB application for `settings` (token, API URL) without an Updater."""
    if settings.telegram_token is None:
        raise ConfigError("TIENGDAN_TELEGRAM_TOKEN is not set")
    api = settings.telegram_api_url.rstrip("/")
    builder: ApplicationBuilder = (  # type: ignore[type-arg]
        Application.builder()
        .token(settings.telegram_token.get_secret_value())
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .updater(None)
        .connect_timeout(10.0)
        .read_timeout(20.0)
        .write_timeout(30.0)
        .pool_timeout(10.0)
    )
    return builder.build()


def setup_telegram(app: web.Application, ctx: AppContext, engine: Engine, *,
                   polling: bool = False) -> TelegramChannel:
    """Mount the Telegram channel: route (or polling), PTB lifecycle, `ctx.channels` entry."""
    application = build_application(ctx.settings)
    limiter: RateLimiter
    keyboards: KeyboardFlags
    if ctx.redis is not None:  # shared by all workers; the client belongs to ctx
        limiter, keyboards = RedisRateLimiter(ctx.redis), RedisKeyboardFlags(ctx.redis)
    else:
        limiter, keyboards = MemoryRateLimiter(), MemoryKeyboardFlags()
    channel = TelegramChannel(application.bot, ctx, limiter=limiter, keyboards=keyboards)
    processor = UpdateProcessor(ctx, engine, channel, limiter)
    ctx.channels.register(channel)

    if not polling:
        secret = ctx.settings.telegram_secret
        handler = WebhookHandler(processor, application.bot, secret.get_secret_value() if secret else None)
        app.router.add_post(WEBHOOK_PATH, handler.handle)

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        starter = asyncio.create_task(_start(application), name="telegram-start")
        poller = None
        if polling:
            poller = asyncio.create_task(_poll_when_started(starter, application, processor),
                                         name="telegram-polling")
        yield
        for task in (poller, starter):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await channel.drain(DRAIN_SECONDS)
        if application.running:
            await application.stop()
        await application.shutdown()

    app.cleanup_ctx.append(lifecycle)
    log.info("telegram channel mounted (%s)", "polling" if polling else WEBHOOK_PATH)
    return channel


async def _start(application: Application) -> None:  # type: ignore[type-arg]
    """initialize()+start(), retried while Telegram is unreachable, so the server still boots."""
    while True:
        try:
            await application.initialize()
            await application.start()
            log.info("telegram bot ready: @%s", application.bot.username)
            return
        except InvalidToken:
            log.error("telegram token rejected; the channel cannot send (fix TIENGDAN_TELEGRAM_TOKEN)")
            return
        except TelegramError as exc:
            log.warning("telegram not reachable at start-up (%s); retrying in %.0fs", exc, STARTUP_RETRY_SECONDS)
            await asyncio.sleep(STARTUP_RETRY_SECONDS)


async def _poll_when_started(starter: asyncio.Task[None], application: Application,  # type: ignore[type-arg]
                             processor: UpdateProcessor) -> None:
    await starter
    try:
        await run_polling(application.bot, processor, allowed_updates=ALLOWED_UPDATES)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("telegram polling stopped")
