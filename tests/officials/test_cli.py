"""`tiengdan officials add|list|remove` against a real database file."""

from __future__ import annotations

import asyncio
from pathlib import Path

from typer.testing import CliRunner

from bot.clock import FixedClock
from bot.officials_cli import app
from bot.store import Store


def test_add_list_remove(db_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"TIENGDAN_DATABASE_URL": db_url, "TIENGDAN_MEDIA_DIR": str(tmp_path / "media")}
    added = runner.invoke(app, ["add", "--channel", "telegram", "--user-id", "123456", "--role", "admin",
                                "--unit", "Sở Xây dựng", "--area", "46", "--category", "traffic_roads"], env=env)
    assert added.exit_code == 0, added.output
    assert "telegram:123456" in added.output and "admin" in added.output
    bad = runner.invoke(app, ["add", "--channel", "telegram", "--user-id", "@someone", "--unit", "X"], env=env)
    assert bad.exit_code != 0
    unknown = runner.invoke(app, ["add", "--channel", "zalo", "--user-id", "99", "--unit", "X", "--area", "999"],
                            env=env)
    assert unknown.exit_code == 2 and "999" in unknown.output
    listed = runner.invoke(app, ["list"], env=env)
    assert "Sở Xây dựng" in listed.output and "46" in listed.output
    removed = runner.invoke(app, ["remove", "--channel", "telegram", "--user-id", "123456"], env=env)
    assert removed.exit_code == 0
    again = runner.invoke(app, ["remove", "--channel", "telegram", "--user-id", "123456"], env=env)
    assert again.exit_code == 1
    assert "Chưa có cán bộ" in runner.invoke(app, ["list"], env=env).output

    async def check() -> list[tuple[str, bool]]:
        store = await Store.open(db_url, tmp_path / "media", FixedClock(), migrate=False)
        try:
            assert await store.officials.by_identity("telegram", "123456") is None
            return [(a.action, a.allowed) for a in reversed(await store.audit.recent())]
        finally:
            await store.close()

    assert asyncio.run(check()) == [("officials.add", True), ("officials.remove", True),
                                    ("officials.remove", False)]
