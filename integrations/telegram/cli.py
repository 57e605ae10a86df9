"""`tiengdan telegram …`: register or remove the webhook, show its state.

Mounted by the main CLI (`app.add_typer(telegram_cli.app, name="telegram")`). Settings come
from the parent's `ctx.obj` (a `Settings` or an object with `.settings`), else the environment.
"""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Any

import typer
from telegram import Bot
from telegram.error import TelegramError

from bot.config import Settings
from integrations.telegram.setup import ALLOWED_UPDATES, build_application
from integrations.telegram.webhook import WEBHOOK_PATH

SECRET_FORMAT = re.compile(r"[A-Za-z0-9_-]{1,256}")

app = typer.Typer(help="Telegram: register the webhook with the Bot API.", no_args_is_help=True)


def _settings(ctx: typer.Context) -> Settings:
    obj: Any = ctx.obj
    if isinstance(obj, Settings):
        return obj
    if isinstance(getattr(obj, "settings", None), Settings):
        return obj.settings  # type: ignore[no-any-return]
    return Settings()


def _bot(settings: Settings) -> Bot:
    if settings.telegram_token is None:
        typer.echo("TIENGDAN_TELEGRAM_TOKEN is not set.", err=True)
        raise typer.Exit(2)
    return build_application(settings).bot


def _run(bot: Bot, call: Any) -> Any:
    async def go() -> Any:
        async with bot:
            return await call()

    try:
        return asyncio.run(go())
    except TelegramError as exc:
        typer.echo(f"Telegram refused: {exc}", err=True)
        raise typer.Exit(1) from exc


@app.command("set-webhook")
def set_webhook(
    ctx: typer.Context,
    url: Annotated[str | None, typer.Option(help=f"Default: $TIENGDAN_PUBLIC_URL{WEBHOOK_PATH}")] = None,
    allowed_updates: Annotated[list[str] | None, typer.Option(
        "--allowed-update", help=f"Repeat for each type. Default: {', '.join(ALLOWED_UPDATES)}")] = None,
    drop_pending_updates: Annotated[bool, typer.Option(help="Discard updates waiting at Telegram.")] = False,
    max_connections: Annotated[int, typer.Option(min=1, max=100)] = 40,
) -> None:
    """Register the webhook with the secret token from TIENGDAN_TELEGRAM_SECRET."""
    settings = _settings(ctx)
    if url is None:
        if not settings.public_url:
            typer.echo("Give --url or set TIENGDAN_PUBLIC_URL.", err=True)
            raise typer.Exit(2)
        url = settings.public_url.rstrip("/") + WEBHOOK_PATH
    if not url.startswith("https://"):
        typer.echo("Warning: Telegram only delivers webhooks to https:// URLs.", err=True)
    secret = settings.telegram_secret.get_secret_value() if settings.telegram_secret else ""
    if not SECRET_FORMAT.fullmatch(secret):
        typer.echo("TIENGDAN_TELEGRAM_SECRET must be 1–256 characters of A-Z a-z 0-9 _ - "
                   "(without it the server refuses every update).", err=True)
        raise typer.Exit(2)
    bot = _bot(settings)
    updates = allowed_updates or list(ALLOWED_UPDATES)
    _run(bot, lambda: bot.set_webhook(
        url, secret_token=secret, allowed_updates=updates,
        drop_pending_updates=drop_pending_updates, max_connections=max_connections))
    typer.echo(f"Webhook set: {url} (updates: {', '.join(updates)})")


@app.command("delete-webhook")
def delete_webhook(
    ctx: typer.Context,
    drop_pending_updates: Annotated[bool, typer.Option(help="Discard updates waiting at Telegram.")] = False,
) -> None:
    """Remove the webhook (for polling mode or to stop deliveries)."""
    bot = _bot(_settings(ctx))
    _run(bot, lambda: bot.delete_webhook(drop_pending_updates=drop_pending_updates))
    typer.echo("Webhook deleted.")


@app.command("webhook-info")
def webhook_info(ctx: typer.Context) -> None:
    """Show what Telegram has registered: URL, pending updates, last error."""
    bot = _bot(_settings(ctx))
    info = _run(bot, bot.get_webhook_info)
    typer.echo(f"url: {info.url or '-'}")
    typer.echo(f"pending updates: {info.pending_update_count}")
    typer.echo(f"allowed updates: {', '.join(info.allowed_updates or ()) or 'default'}")
    if info.last_error_message:
        typer.echo(f"last error: {info.last_error_message}")
