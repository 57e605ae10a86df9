"""The one aiohttp application (`tiengdan serve`): composition root for every HTTP channel.

Routes: `/healthz`, `/metrics`, the web chat (`/`, `/webchat/ws`, `/media/…`), `/model/parse`,
and the Telegram/Zalo webhooks when those channels are configured. Optional integrations are
imported lazily so the server starts with nothing configured (SQLite + memory, no tokens).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

from aiohttp import web

from bot.bootstrap import build_context, build_engine, close_context
from bot.config import Settings
from bot.context import AppContext
from bot.engine import Engine
from bot.metrics import CONTENT_TYPE, Metrics

log = logging.getLogger(__name__)

CTX: web.AppKey[AppContext] = web.AppKey("ctx", AppContext)
ENGINE: web.AppKey[Engine] = web.AppKey("engine", Engine)
METRICS: web.AppKey[Metrics] = web.AppKey("metrics", Metrics)

CleanupCtx = Callable[[web.Application], AsyncIterator[None]]
Worker = Callable[[AppContext, Engine], Coroutine[Any, Any, None]]


# --- health and metrics --------------------------------------------------------------------


async def healthz(request: web.Request) -> web.Response:
    """200 when the database (and Redis, if used) answer; 503 otherwise."""
    ctx = request.app[CTX]
    db_ok = await _probe(_db_ping(ctx))
    checks: dict[str, Any] = {"db": db_ok}
    if ctx.redis is not None:
        checks["redis"] = await _probe(ctx.redis.ping())
    else:
        checks["redis"] = None  # not configured: in-memory sessions
    ok = all(v is not False for v in checks.values())
    checks["status"] = "ok" if ok else "degraded"
    return web.json_response(checks, status=200 if ok else 503)


async def _db_ping(ctx: AppContext) -> None:
    async with ctx.store.engine.connect() as conn:
        await conn.exec_driver_sql("SELECT 1")


async def _probe(check: Awaitable[Any]) -> bool:
    try:
        async with asyncio.timeout(3.0):
            await check
    except Exception as exc:
        log.warning("health probe failed: %s", type(exc).__name__)
        return False
    return True


async def metrics_view(request: web.Request) -> web.Response:
    body = request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


# --- optional parts ------------------------------------------------------------------------


def _optional(module: str) -> Any | None:
    """Import an integration that may be absent (or broken); None then, and the rest still serves."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            log.info("%s not present; its routes are off", module)
            return None
        log.exception("%s failed to import; its routes are off", module)
        return None
    except ImportError:
        log.exception("%s failed to import; its routes are off", module)
        return None


def _setup_nlu_route(app: web.Application, ctx: AppContext) -> None:
    if ctx.nlu is None:
        return
    rasa_http = _optional("integrations.rasa_http")
    if rasa_http is not None:
        rasa_http.add_routes(app, ctx.nlu)


def _setup_channels(app: web.Application, ctx: AppContext, engine: Engine, *,
                    telegram_polling: bool = False) -> list[str]:
    """Mount Telegram/Zalo when their settings are present; returns the names mounted."""
    mounted = []
    for name, module, setup, options in (
        ("telegram", "integrations.telegram", "setup_telegram", {"polling": telegram_polling}),
        ("zalo", "integrations.zalo", "setup_zalo", {}),
    ):
        if not ctx.settings.channel_enabled(name):
            continue
        integration = _optional(module)
        if integration is None or not hasattr(integration, setup):
            log.warning("%s is configured but %s.%s is missing", name, module, setup)
            continue
        getattr(integration, setup)(app, ctx, engine, **options)
        mounted.append(name)
    return mounted


def background(name: str, worker: Worker) -> Callable[[AppContext, Engine], CleanupCtx]:
    """Turn `worker(ctx, engine)` into a cleanup_ctx entry: started with the app, cancelled at shutdown."""

    def bind(ctx: AppContext, engine: Engine) -> CleanupCtx:
        async def run(_app: web.Application) -> AsyncIterator[None]:
            task: asyncio.Task[None] = asyncio.create_task(worker(ctx, engine), name=name)
            log.info("background worker started: %s", name)
            yield
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            log.info("background worker stopped: %s", name)

        return run

    return bind


def background_workers(ctx: AppContext, engine: Engine) -> list[CleanupCtx]:
    """Long-running tasks started with the server (the outbox sender registers here).

    Each entry is `background("name", coroutine_function)(ctx, engine)`; they stop before the
    context is closed because cleanup contexts unwind in reverse order.
    """
    workers: list[CleanupCtx] = []
    outbox = _optional("bot.outbox")
    if outbox is not None:  # durable outbox sender + SLA sweeps; stops gracefully at shutdown
        workers.append(outbox.outbox_cleanup_ctx(ctx, renderers=outbox_renderers()))
    planner = _optional("bot.broadcasts.planner")
    if planner is not None:  # plans broadcasts, closes due polls, resumes work cut off by a crash
        workers.append(background("broadcast-planner", _run_planner)(ctx, engine))
    return workers


def outbox_renderers() -> dict[str, Any]:
    """Renderers for outbox rows without a stored payload (broadcasts take the broadcast's content)."""
    from bot.outbox import default_renderers

    render = _optional("bot.broadcasts.render")
    return default_renderers(render.default_renderers() if render is not None else None)


async def _run_planner(ctx: AppContext, engine: Engine) -> None:
    from bot.broadcasts.planner import BroadcastPlanner

    stop = asyncio.Event()
    try:
        await BroadcastPlanner(ctx.store).run(stop)
    finally:
        stop.set()


# --- the application -----------------------------------------------------------------------


async def create_app(settings: Settings, *, ctx: AppContext | None = None, workers: bool = True,
                     telegram_polling: bool = False) -> web.Application:
    """The full application. A `ctx` passed in stays owned by the caller; one built here is
    closed when the app shuts down."""
    from integrations.webchat import setup_webchat

    owns_ctx = ctx is None
    if ctx is None:
        ctx = await build_context(settings)
    metrics = Metrics()
    engine = build_engine(ctx, metrics)

    app = web.Application(client_max_size=16 * 1024 * 1024)
    app[CTX] = ctx
    app[ENGINE] = engine
    app[METRICS] = metrics
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_view)
    setup_webchat(app, ctx, engine, metrics=metrics)
    _setup_nlu_route(app, ctx)
    from dialogs.citizen.common import CATEGORIES  # what Open311, the dashboard and Rasa actions accept
    for module in ("integrations.open311", "integrations.dashboard", "integrations.rasa_actions"):
        if (public := _optional(module)) is not None:
            public.add_routes(app, ctx, CATEGORIES)
    mounted = _setup_channels(app, ctx, engine, telegram_polling=telegram_polling)
    log.info("channels mounted: web%s", "".join(f", {m}" for m in mounted))

    if workers:
        app.cleanup_ctx.extend(background_workers(ctx, engine))
    if owns_ctx:
        app.on_cleanup.append(_closer(ctx))
    return app


def _closer(ctx: AppContext) -> Callable[[web.Application], Awaitable[None]]:
    async def close(_app: web.Application) -> None:
        await close_context(ctx)
        log.info("context closed")

    return close


def run(settings: Settings, *, telegram_polling: bool = False) -> None:
    """Serve until SIGINT/SIGTERM; aiohttp then runs shutdown and cleanup (closing the context)."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s %(message)s")
    root = logging.getLogger()
    if root.level > logging.INFO:  # a server logs its start, channels and shutdown
        root.setLevel(logging.INFO)
    log.info("serving on http://%s:%d", settings.host, settings.port)
    web.run_app(create_app(settings, telegram_polling=telegram_polling), host=settings.host,
                port=settings.port, print=None, shutdown_timeout=10.0)
