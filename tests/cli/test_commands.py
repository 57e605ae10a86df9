"""The `tiengdan` command line, invoked as an operator would (Typer's CliRunner, real databases)."""

from __future__ import annotations

import asyncio
import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app, redact
from bot.clock import FixedClock
from bot.store import Store

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> dict[str, str | None]:
    return {"TIENGDAN_DATABASE_URL": db_url, "TIENGDAN_MEDIA_DIR": str(tmp_path / "media"),
            "TIENGDAN_REDIS_URL": None, "TIENGDAN_DEFAULT_LOCALE": "vi"}


def invoke(env: dict[str, str | None], *args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=env, input=input)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


async def _add_case(db_url: str, media: Path, description: str, anonymous: bool) -> str:
    store = await Store.open(db_url, media, FixedClock(), migrate=False)
    try:
        citizen = await store.citizens.get_or_create("telegram", "555001", display_name="Phạm Thu")
        await store.citizens.set_verified_phone(citizen.id, "0912345678")
        case = await store.cases.create(citizen.id, category="health", description=description, area_id=None,
                                        lat=16.4637123, lon=107.5909456, anonymous=anonymous, channel="telegram")
        return case.code
    finally:
        await store.close()


def test_demo_is_idempotent_and_cases_are_listed(env: dict[str, str | None]) -> None:
    code, out, _ = invoke(env, "demo")
    assert code == 0 and "created=6" in out
    code, out, _ = invoke(env, "demo")
    assert code == 0 and "created=0" in out and "skipped=6" in out
    code, out, _ = invoke(env, "cases", "list", "--limit", "3")
    assert code == 0 and "Phản ánh (3)" in out
    code, out, _ = invoke(env, "cases", "list", "--status", "received")
    assert code == 0 and "Phản ánh (6)" in out
    code, out, _ = invoke(env, "cases", "list", "--status", "closed")
    assert code == 0 and "Chưa có phản ánh nào" in out
    code, out, _ = invoke(env, "cases", "list", "--status", "nonsense")
    assert code == 2 and "nonsense" in out


def test_export_is_pii_redacted(env: dict[str, str | None], db_url: str, tmp_path: Path) -> None:
    invoke(env, "demo")
    named = asyncio.run(_add_case(db_url, tmp_path / "media", "Gọi tôi 0912 345 678 hoặc a.b@mail.vn", False))
    anon = asyncio.run(_add_case(db_url, tmp_path / "media", "Trạm y tế đóng cửa", True))

    code, out, _ = invoke(env, "cases", "export", "--format", "json")
    assert code == 0
    rows = {r["code"]: r for r in json.loads(out)}
    assert len(rows) == 8
    for row in rows.values():
        assert not {"citizen_id", "phone", "phone_hash", "id", "user_id"} & set(row)
    assert rows[named]["reporter"] == "Phạm Thu"
    assert rows[named]["description"] == "Gọi tôi *** hoặc ***"
    assert rows[named]["lat"] == 16.4637123
    assert rows[anon]["reporter"] is None and rows[anon]["anonymous"] is True
    assert rows[anon]["lat"] == 16.464 and rows[anon]["lon"] == 107.591
    assert "345 678" not in out and "345678" not in out and "555001" not in out and "Phạm Thu" in out
    demo_anon = [r for r in rows.values() if r["anonymous"] and r["code"] != anon]
    assert len(demo_anon) == 1 and demo_anon[0]["reporter"] is None and "Lê Minh Châu" not in json.dumps(
        demo_anon[0], ensure_ascii=False)

    target = tmp_path / "cases.csv"
    code, _, err = invoke(env, "cases", "export", "--format", "csv", "--out", str(target))
    assert code == 0 and "8" in err
    with target.open(encoding="utf-8", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 8 and "citizen_id" not in table[0]
    assert {r["code"] for r in table} == set(rows)

    code, out, _ = invoke(env, "cases", "export", "--format", "xml")
    assert code == 2 and "xml" in out


def test_show_a_case(env: dict[str, str | None], db_url: str, tmp_path: Path) -> None:
    code_ = asyncio.run(_add_case(db_url, tmp_path / "media", "Trạm y tế đóng cửa, gọi 0987654321", False))
    code, out, _ = invoke(env, "cases", "show", f"{code_[:4]} {code_[4:]}")
    assert code == 0
    assert f"{code_[:4]} {code_[4:]}" in out and "received" in out and "Phạm Thu" in out
    assert "Trạm y tế đóng cửa" in out and "0987654321" not in out
    code, out, _ = invoke(env, "cases", "show", "1234 5678")
    assert code == 1 and "1234 5678" in out


def test_chat_command_reads_stdin(env: dict[str, str | None], monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_nlu(settings: object) -> None:
        return None

    monkeypatch.setattr("bot.bootstrap._embedded_nlu", no_nlu)
    code, out, _ = invoke(env, "chat", "--as-official", input="xin chào\n1\n")
    assert code == 0
    assert "official-1" in out and "Tiếng Dân" in out
    assert "1. 🇻🇳 Tiếng Việt" in out
    assert out.rstrip().endswith("Tạm biệt!")


def test_db_upgrade_on_a_new_database(empty_db_url: str, tmp_path: Path) -> None:
    env: dict[str, str | None] = {"TIENGDAN_DATABASE_URL": empty_db_url, "TIENGDAN_MEDIA_DIR": str(tmp_path)}
    code, out, _ = invoke(env, "db", "upgrade")
    assert code == 0 and "Đã nâng cấp cơ sở dữ liệu" in out

    async def count() -> int:
        store = await Store.open(empty_db_url, tmp_path, FixedClock(), migrate=False)
        try:
            return await store.areas.count()
        finally:
            await store.close()

    assert asyncio.run(count()) == 3355
    code, out, _ = invoke(env, "db", "upgrade")  # again: nothing to do, still fine
    assert code == 0


def test_serve_with_polling_but_no_token_refuses(env: dict[str, str | None]) -> None:
    code, out, _ = invoke({**env, "TIENGDAN_TELEGRAM_TOKEN": None}, "serve", "--telegram-polling")
    assert code == 2 and "TIENGDAN_TELEGRAM_TOKEN" in out


def test_python_dash_m_entry_point() -> None:
    result = subprocess.run([sys.executable, "-m", "bot.cli", "--help"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    for command in ("serve", "chat", "db", "demo", "cases", "nlu", "telegram", "zalo"):
        assert command in result.stdout


def test_redact() -> None:
    assert redact("sdt +84 912 345 678, 0912.345.678 hay 0912345678") == "sdt ***, *** hay ***"
    assert redact("mã 1234 5678, năm 2025") == "mã 1234 5678, năm 2025"
    assert redact(None) is None
