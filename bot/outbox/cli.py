"""`tiengdan worker`: the outbox sender (and deadline sweeps) as its own process.

It loads the same channels as `tiengdan serve` (by building the app and running its start-up
hooks) but serves no HTTP. Run as many as you like: claims never overlap.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

import typer

from bot.config import Settings

log = logging.getLogger(__name__)


def worker(ctx: typer.Context,
           worker_id: str | None = typer.Option(None, "--id", help="Worker name in logs and claims."),
           sweeps: bool = typer.Option(True, "--sweeps/--no-sweeps",
                                       help="Also escalate overdue cases and queue daily digests.")) -> None:
    """Send queued notifications and broadcasts until interrupted (SIGINT/SIGTERM)."""
    root = ctx.find_root()
    settings = root.obj if isinstance(root.obj, Settings) else Settings()
    asyncio.run(_work(settings, worker_id, sweeps))


async def _work(settings: Settings, worker_id: str | None, sweeps: bool) -> None:
    from aiohttp import web

    from bot.bootstrap import build_context
    from bot.outbox.runner import run_sender
    from bot.server import create_app, outbox_renderers

    ctx = await build_context(settings)
    app = await create_app(settings, ctx=ctx, workers=False)
    runner = web.AppRunner(app)
    await runner.setup()  # start-up hooks register the channels; no site: no HTTP served
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if sys.platform != "win32":  # asyncio has no signal handlers on Windows
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    try:
        await run_sender(ctx, stop=stop, worker_id=worker_id, sweeps=sweeps, renderers=outbox_renderers())
    finally:
        await runner.cleanup()
        await ctx.close()
