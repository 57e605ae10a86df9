"""Composition hook: `setup_zalo(app, ctx, engine)` wires the Zalo channel into the server."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.context import AppContext
from bot.engine import Engine
from bot.errors import ConfigError
from bot.locks import LockManager
from bot.metrics import MeteredEngine
from bot.ratelimit import MemoryRateLimiter, RedisRateLimiter
from integrations.zalo.admission import WindowPolicy
from integrations.zalo.api import ZaloApi
from integrations.zalo.channel import ZaloChannel
from integrations.zalo.intake import ZaloIntake
from integrations.zalo.media import Downloader
from integrations.zalo.metrics import ZaloMetrics
from integrations.zalo.repo import CredentialRepo, InboundEventRepo
from integrations.zalo.tokens import OAuthClient, TokenManager
from integrations.zalo.webhook import ZaloWebhook

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/zalo/webhook"


@dataclass(frozen=True, slots=True)
class ZaloRuntime:
    """The parts of a running Zalo channel (for the server, the CLI and tests)."""

    channel: ZaloChannel
    intake: ZaloIntake
    webhook: ZaloWebhook
    tokens: TokenManager
    http: aiohttp.ClientSession


ZALO_RUNTIME = web.AppKey("zalo_runtime", ZaloRuntime)


def check_settings(settings: Settings) -> None:
    """ConfigError unless the credentials the channel cannot work without are set."""
    if not settings.zalo_app_id or settings.zalo_access_token is None:
        raise ConfigError("Zalo needs TIENGDAN_ZALO_APP_ID and TIENGDAN_ZALO_ACCESS_TOKEN")
    secret = settings.zalo_oa_secret if settings.zalo_signature_secret == "oa" else settings.zalo_app_secret
    if secret is None:
        raise ConfigError(f"Zalo webhook signatures need the {settings.zalo_signature_secret} secret")


def build_tokens(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock,
                 locks: LockManager, http: aiohttp.ClientSession,
                 metrics: ZaloMetrics | None = None) -> TokenManager:
    """The token manager alone (the CLI's `refresh-token` needs nothing else)."""
    if not settings.zalo_app_id or settings.zalo_access_token is None:
        raise ConfigError("Zalo needs TIENGDAN_ZALO_APP_ID and TIENGDAN_ZALO_ACCESS_TOKEN")
    app_secret = settings.zalo_app_secret.get_secret_value() if settings.zalo_app_secret else ""
    if not app_secret:
        log.warning("TIENGDAN_ZALO_APP_SECRET unset: the access token cannot be refreshed")
    oauth = OAuthClient(http, settings.zalo_oauth_url, settings.zalo_app_id, app_secret)
    refresh = settings.zalo_refresh_token.get_secret_value() if settings.zalo_refresh_token else None
    return TokenManager(CredentialRepo(sessionmaker, clock), oauth, locks, clock,
                        seed_access=settings.zalo_access_token.get_secret_value(), seed_refresh=refresh,
                        metrics=metrics)


def build_zalo(ctx: AppContext, engine: Engine, http: aiohttp.ClientSession,
               metrics: ZaloMetrics | None = None) -> ZaloRuntime:
    """Every part of the channel, built from the context (no I/O yet)."""
    settings = ctx.settings
    metrics = metrics or ZaloMetrics()
    check_settings(settings)
    sessionmaker = ctx.store.sessionmaker
    tokens = build_tokens(settings, sessionmaker, ctx.clock, ctx.locks, http, metrics)
    api = ZaloApi(http, settings.zalo_api_url, tokens, metrics=metrics)
    policy = WindowPolicy(
        ctx.store.citizens, sessionmaker, timezone=settings.timezone,
        broadcasts_per_month=settings.zalo_broadcasts_per_month,
        paid_notifications=settings.zalo_paid_notifications, paid_broadcasts=settings.zalo_paid_broadcasts,
    )
    limiter = RedisRateLimiter(ctx.redis) if ctx.redis is not None else MemoryRateLimiter()
    channel = ZaloChannel(api, policy, ctx.i18n, ctx.store.citizens, settings.media_dir, limiter=limiter,
                          rate_per_second=settings.zalo_rate_per_second)
    intake = ZaloIntake(ctx, engine, channel, InboundEventRepo(sessionmaker, ctx.clock),
                        Downloader(http, settings.max_media_bytes), metrics=metrics)
    webhook = ZaloWebhook(settings, ctx.clock, intake, metrics)
    return ZaloRuntime(channel, intake, webhook, tokens, http)


def setup_zalo(app: web.Application, ctx: AppContext, engine: Engine) -> ZaloChannel:
    """Add `POST /zalo/webhook`, run the intake worker with the app, register the channel.

    Synchronous like the other channel hooks (bot/server.py calls them from the async
    `create_app`, so a loop is running for the HTTP client session created here).
    """
    check_settings(ctx.settings)
    # Count into the server's registry (served on /metrics) when the engine is the metered one.
    registry = engine.metrics.registry if isinstance(engine, MeteredEngine) else None
    runtime = build_zalo(ctx, engine, aiohttp.ClientSession(), ZaloMetrics(registry))
    http = runtime.http
    app[ZALO_RUNTIME] = runtime
    app.router.add_post(WEBHOOK_PATH, runtime.webhook.handle)

    async def lifecycle(_: web.Application) -> AsyncIterator[None]:
        runtime.intake.start()
        yield
        await runtime.intake.stop()
        await http.close()

    app.cleanup_ctx.append(lifecycle)
    ctx.channels.register(runtime.channel)
    log.info("zalo channel ready at %s", WEBHOOK_PATH)
    return runtime.channel
