"""`tiengdan telegram set-webhook|delete-webhook|webhook-info` against the fake Bot API."""

from __future__ import annotations

import asyncio

from typer.testing import CliRunner

from integrations.telegram.cli import app
from tests.telegram.conftest import SECRET
from tests.telegram.fake_bot_api import FakeBotAPI


def env(api: FakeBotAPI, **extra: str) -> dict[str, str]:
    values = {"TIENGDAN_TELEGRAM_TOKEN": api.token, "TIENGDAN_TELEGRAM_SECRET": SECRET,
              "TIENGDAN_TELEGRAM_API_URL": api.url, "TIENGDAN_PUBLIC_URL": "https://bot.example.vn/"}
    values.update(extra)
    return values


async def invoke(api: FakeBotAPI, *args: str, **extra: str) -> tuple[int, str]:
    """Run the command in a thread (it runs its own event loop) while the fake serves here."""
    result = await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env(api, **extra))
    return result.exit_code, result.output


async def test_set_webhook_registers_secret_and_options(fake_api: FakeBotAPI) -> None:
    code, output = await invoke(fake_api, "set-webhook", "--drop-pending-updates",
                                "--allowed-update", "message", "--allowed-update", "callback_query")
    assert code == 0, output
    assert fake_api.webhook["url"] == "https://bot.example.vn/telegram/webhook"
    assert fake_api.webhook["secret_token"] == SECRET
    assert fake_api.webhook["allowed_updates"] == ["message", "callback_query"]
    assert fake_api.webhook["drop_pending_updates"] is True

    code, output = await invoke(fake_api, "webhook-info")
    assert code == 0 and "https://bot.example.vn/telegram/webhook" in output

    code, output = await invoke(fake_api, "delete-webhook")
    assert code == 0, output
    assert fake_api.webhook == {}
    assert fake_api.of("deleteWebhook")[-1].params.get("drop_pending_updates") in (False, None)


async def test_default_allowed_updates_and_explicit_url(fake_api: FakeBotAPI) -> None:
    code, output = await invoke(fake_api, "set-webhook", "--url", "https://other.example.vn/telegram/webhook")
    assert code == 0, output
    assert fake_api.webhook["url"] == "https://other.example.vn/telegram/webhook"
    assert fake_api.webhook["allowed_updates"] == ["message", "edited_message", "callback_query", "my_chat_member"]
    assert "drop_pending_updates" not in fake_api.webhook or fake_api.webhook["drop_pending_updates"] is False


async def test_missing_settings_are_clear_errors(fake_api: FakeBotAPI) -> None:
    code, _ = await invoke(fake_api, "set-webhook", TIENGDAN_PUBLIC_URL="")
    assert code == 2
    code, _ = await invoke(fake_api, "set-webhook", TIENGDAN_TELEGRAM_SECRET="")
    assert code != 0
    fake_api.fail("setWebhook", 400, "Bad Request: bad webhook: HTTPS url must be provided for webhook")
    code, output = await invoke(fake_api, "set-webhook")
    assert code == 1 and "refused" in output
