"""Builds the long-lived dependencies (`AppContext`) and the engine from `Settings`.

Used by both composition roots (`bot/server.py`, `bot/cli.py`) and by tests, so the server,
the console chat and the CLI all run the same wiring. Optional parts (NLU) are imported lazily
so the core keeps working while they are absent or broken.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from redis.asyncio import Redis

from bot.channels import ChannelRegistry
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.context import AppContext
from bot.dedupe import Deduper, MemoryDeduper, RedisDeduper
from bot.engine import Engine
from bot.i18n import Catalogs
from bot.locks import LockManager, MemoryLocks, RedisLocks
from bot.metrics import MeteredEngine, Metrics
from bot.sessions import MemorySessionStore, RedisSessionStore, SessionStore

if TYPE_CHECKING:
    from bot.store import Store
    from nlu import NLU

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


async def open_store(settings: Settings, clock: Clock, *, migrate: bool = True) -> Store:
    """The case store for `settings.database_url`, schema upgraded unless `migrate` is False."""
    from bot.store import Store

    settings.media_dir.mkdir(parents=True, exist_ok=True)
    return await Store.open(
        settings.database_url, settings.media_dir, clock, max_media_bytes=settings.max_media_bytes,
        migrate=migrate,
    )


async def ensure_areas(store: Store, progress: Progress | None = None) -> int:
    """Load the administrative units once; returns how many were loaded (0 when already there)."""
    if await store.areas.count() > 0:
        return 0
    log.info("areas table empty; loading administrative units")
    loaded: int = await store.areas.load_from_package(progress)
    log.info("areas loaded count=%d", loaded)
    return loaded


def _conversation_backends(settings: Settings) -> tuple[SessionStore, Deduper, LockManager, Any]:
    """Memory backends for one process, or Redis (one shared client) when configured."""
    if not settings.redis_url:
        return MemorySessionStore(), MemoryDeduper(), MemoryLocks(), None
    client = Redis.from_url(settings.redis_url)
    return RedisSessionStore(client), RedisDeduper(client), RedisLocks(client), client


async def build_nlu(settings: Settings) -> NLU | None:
    """The embedded model (trained on first start), behind Rasa over HTTP when `rasa_url` is set
    (the embedded model then answers whenever Rasa fails).

    Returns None when no NLU is available: dialogs then work by buttons and keywords only.
    """
    embedded = await _embedded_nlu(settings)
    if not settings.rasa_url:
        return embedded
    try:
        from integrations.rasa_nlu import RasaHttpNLU
    except ImportError:
        log.exception("TIENGDAN_RASA_URL is set but integrations.rasa_nlu failed to import")
        return embedded
    if embedded is None:
        log.warning("Rasa NLU needs the embedded model as its fallback, which did not load; no NLU")
        return None
    return RasaHttpNLU(settings.rasa_url, timeout=settings.rasa_timeout_seconds, fallback=embedded)


async def _embedded_nlu(settings: Settings) -> NLU | None:
    try:
        from nlu.embedded import EmbeddedNLU
    except ImportError:
        log.exception("embedded NLU not available; running without free-text understanding")
        return None
    try:
        # Trains on first start (or when the training data changed): seconds, so off the loop.
        return await asyncio.to_thread(
            EmbeddedNLU.load, settings.nlu_model_dir, threshold=settings.nlu_fallback_threshold
        )
    except Exception:
        log.exception("embedded NLU failed to load; running without it")
        return None


async def build_context(
    settings: Settings,
    *,
    clock: Clock | None = None,
    migrate: bool = True,
    load_areas: bool = True,
    with_nlu: bool = True,
    area_progress: Progress | None = None,
) -> AppContext:
    """Open the store (migrated), load areas if empty, pick memory/Redis backends, catalogs, NLU."""
    clock = clock or SystemClock()
    store = await open_store(settings, clock, migrate=migrate)
    sessions, dedupe, locks, redis = _conversation_backends(settings)
    try:
        if load_areas:
            await ensure_areas(store, area_progress)
        i18n = Catalogs(default_locale=settings.default_locale, timezone=settings.timezone)
        nlu = await build_nlu(settings) if with_nlu else None
    except BaseException:
        await store.close()
        if redis is not None:
            await redis.aclose()
        raise
    return AppContext(
        settings=settings, clock=clock, store=store, sessions=sessions, dedupe=dedupe, locks=locks,
        i18n=i18n, nlu=nlu, channels=ChannelRegistry(), redis=redis,
    )


async def close_context(ctx: AppContext) -> None:
    """Close everything `build_context` opened (the NLU's HTTP session too)."""
    close_nlu = getattr(ctx.nlu, "close", None)
    try:
        if close_nlu is not None:
            await close_nlu()
    finally:
        await ctx.close()


def build_engine(ctx: AppContext, metrics: Metrics | None = None) -> Engine:
    """The engine with every feature's dialogs; counted in `metrics` when given."""
    from dialogs import build_router

    router = build_router()
    if metrics is not None:
        return MeteredEngine(ctx, router, metrics)
    return Engine(ctx, router)
