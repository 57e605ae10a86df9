"""Running the sender inside `tiengdan serve` (aiohttp cleanup_ctx) or alone (`tiengdan worker`).

Besides sending, the loop runs the deadline sweeps once a minute: escalate overdue cases and
queue the daily digests (both idempotent, so any number of workers may run them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from bot.context import AppContext
from bot.outbox.worker import OutboxWorker, Renderer, default_renderers

log = logging.getLogger(__name__)

SWEEP_SECONDS = 60.0


def default_worker_id() -> str:
    return f"{socket.gethostname()[:24]}-{os.getpid()}"


async def sweep_loop(ctx: AppContext, stop: asyncio.Event, every: float = SWEEP_SECONDS) -> None:
    """Escalations and digests, every `every` seconds until `stop`."""
    from bot import sla

    while not stop.is_set():
        try:
            escalated = await sla.escalate_overdue(ctx)
            digests = await sla.send_digests(ctx)
            closed = await sla.close_unanswered(ctx)
            if escalated or digests or closed:
                log.info("sla sweep: escalated=%d digests=%d auto-closed=%d", escalated, digests, closed)
        except Exception:
            log.exception("sla sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)


async def run_sender(ctx: AppContext, engine: Any = None, *, stop: asyncio.Event | None = None,
                     renderers: Mapping[str, Renderer] | None = None, worker_id: str | None = None,
                     sweeps: bool = True) -> None:
    """Send (and sweep) until `stop` is set or the task is cancelled. `engine` is unused; the
    signature fits `bot.server.background`."""
    stop = stop or asyncio.Event()
    worker = OutboxWorker(ctx, worker_id=worker_id or default_worker_id(),
                          renderers=renderers if renderers is not None else default_renderers())
    tasks = [asyncio.create_task(worker.run(stop), name="outbox-sender")]
    if sweeps:
        tasks.append(asyncio.create_task(sweep_loop(ctx, stop), name="sla-sweeps"))
    try:
        await asyncio.gather(*tasks)
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def outbox_cleanup_ctx(
    ctx: AppContext, *, renderers: Mapping[str, Renderer] | None = None, sweeps: bool = True,
) -> Callable[[Any], AsyncIterator[None]]:
    """An aiohttp `app.cleanup_ctx` entry: the sender starts with the app and stops gracefully
    (finishing the message in flight) at shutdown.

        app.cleanup_ctx.append(outbox_cleanup_ctx(ctx, renderers=default_renderers({...})))
    """

    async def cleanup_ctx(_app: Any) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(run_sender(ctx, stop=stop, renderers=renderers, sweeps=sweeps),
                                   name="outbox")
        yield
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=15)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return cleanup_ctx
