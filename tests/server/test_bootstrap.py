"""build_context: a fresh database is migrated and gets its areas; Redis is used when configured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.bootstrap import build_context, build_engine, close_context, ensure_areas
from bot.clock import FixedClock
from bot.config import Settings
from bot.dedupe import MemoryDeduper, RedisDeduper
from bot.engine import Engine
from bot.locks import MemoryLocks, RedisLocks
from bot.messages import Inbound
from bot.metrics import MeteredEngine, Metrics
from bot.sessions import MemorySessionStore, RedisSessionStore


async def test_fresh_database_is_migrated_and_loaded(empty_db_url: str, tmp_path: Path) -> None:
    settings = Settings(database_url=empty_db_url, media_dir=tmp_path / "media", redis_url=None)
    progress: list[tuple[int, int]] = []
    ctx = await build_context(settings, clock=FixedClock(), with_nlu=False,
                              area_progress=lambda done, total: progress.append((done, total)))
    try:
        assert await ctx.store.areas.count(level="province") == 34
        assert await ctx.store.areas.count(level="commune") == 3321
        assert progress and progress[-1][0] == progress[-1][1]
        assert isinstance(ctx.sessions, MemorySessionStore)
        assert isinstance(ctx.dedupe, MemoryDeduper) and isinstance(ctx.locks, MemoryLocks)
        assert (tmp_path / "media").is_dir()
        assert await ensure_areas(ctx.store) == 0  # a second start loads nothing
        engine = build_engine(ctx)
        assert type(engine) is Engine
        replies = await engine.handle(Inbound(channel="web", user_id="first", text="xin chào"))
        assert replies and "Tiếng Dân" in replies[0].text
    finally:
        await close_context(ctx)


@pytest.mark.redis
async def test_redis_backends_share_one_client(db_url: str, redis_url: str, tmp_path: Path) -> None:
    settings = Settings(database_url=db_url, media_dir=tmp_path / "media", redis_url=redis_url)
    ctx = await build_context(settings, clock=FixedClock(), migrate=False, with_nlu=False)
    try:
        assert isinstance(ctx.sessions, RedisSessionStore)
        assert isinstance(ctx.dedupe, RedisDeduper) and isinstance(ctx.locks, RedisLocks)
        clients = {id(ctx.sessions._redis), id(ctx.dedupe._redis), id(ctx.locks._redis), id(ctx.redis)}
        assert len(clients) == 1
        engine = build_engine(ctx, Metrics())
        assert isinstance(engine, MeteredEngine)
        inbound = Inbound(channel="web", user_id="r1", message_id="m1", text="xin chào")
        assert await engine.handle(inbound)
        assert await engine.handle(inbound) == []  # the dedupe key is in Redis
        assert await ctx.redis.exists("td:dedupe:web:m1") == 1
    finally:
        await close_context(ctx)


async def test_nlu_is_loaded_and_closed(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[str] = []

    class FakeNLU:
        async def parse(self, text: str) -> Any:
            raise AssertionError("not called")

        async def close(self) -> None:
            closed.append("nlu")

    async def fake_embedded(settings: Settings) -> FakeNLU:
        return FakeNLU()

    monkeypatch.setattr("bot.bootstrap._embedded_nlu", fake_embedded)
    settings = Settings(database_url=db_url, media_dir=tmp_path / "media", redis_url=None,
                        rasa_url="http://127.0.0.1:9/")
    ctx = await build_context(settings, clock=FixedClock(), migrate=False)
    from integrations.rasa_nlu import RasaHttpNLU

    assert isinstance(ctx.nlu, RasaHttpNLU)  # Rasa first, the embedded model as its fallback
    await close_context(ctx)

    ctx = await build_context(settings.model_copy(update={"rasa_url": None}), clock=FixedClock(), migrate=False)
    assert isinstance(ctx.nlu, FakeNLU)
    await close_context(ctx)
    assert closed == ["nlu"]
