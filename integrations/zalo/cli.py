"""`tiengdan zalo …`: operator commands for the Zalo channel."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import typer

from bot.clock import SystemClock
from bot.config import Settings
from bot.errors import ConfigError
from bot.locks import MemoryLocks, RedisLocks
from bot.store.db import make_engine, make_sessionmaker
from integrations.zalo.setup import build_tokens
from integrations.zalo.tokens import TokenError

log = logging.getLogger(__name__)

app = typer.Typer(help="Zalo Official Account channel.", no_args_is_help=True)


@app.command("refresh-token")
def refresh_token(
    refresh_token: str | None = typer.Option(
        None, "--refresh-token", help="Use this refresh token (e.g. a new one from the Zalo console)."
    ),
) -> None:
    """Rotate the OA access token now and store the new pair (also recovers after a lock-out)."""
    settings = Settings()
    try:
        version = asyncio.run(_refresh(settings, refresh_token))
    except (ConfigError, TokenError) as exc:
        typer.echo(f"Refresh failed: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Zalo token refreshed and stored (version {version}).")


async def _refresh(settings: Settings, refresh_token: str | None) -> int:
    engine = make_engine(settings.database_url)
    locks = RedisLocks.from_url(settings.redis_url) if settings.redis_url else MemoryLocks()
    try:
        async with aiohttp.ClientSession() as http:
            tokens = build_tokens(settings, make_sessionmaker(engine), SystemClock(), locks, http)
            await tokens.refresh(None, refresh_token=refresh_token)
            return tokens.version
    finally:
        await locks.close()
        await engine.dispose()
