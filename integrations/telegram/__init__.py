"""Telegram channel on python-telegram-bot 22, mounted on our aiohttp server.

Public API: `setup_telegram(app, ctx, engine, *, polling=False) -> TelegramChannel` (server),
`TelegramChannel` (replies and the outbox), `build_application(settings)` (CLI), and the
Typer sub-app `integrations.telegram.cli:app` (`tiengdan telegram …`).
"""

from integrations.telegram.channel import TelegramChannel
from integrations.telegram.setup import ALLOWED_UPDATES, build_application, setup_telegram
from integrations.telegram.webhook import WEBHOOK_PATH

__all__ = ["ALLOWED_UPDATES", "WEBHOOK_PATH", "TelegramChannel", "build_application", "setup_telegram"]
