"""The assembled server: health, metrics, optional routes, start-up with nothing configured."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from bot.bootstrap import build_context
from bot.clock import FixedClock
from bot.config import Settings
from bot.context import AppContext
from bot.server import CTX, ENGINE, METRICS, background, create_app
from bot.store import Store
from tests.harness import make_context


async def make_client(aiohttp_client: Any, ctx: AppContext, **kwargs: Any) -> TestClient[Any, Any]:
    app = await create_app(ctx.settings, ctx=ctx, workers=False, **kwargs)
    client: TestClient[Any, Any] = await aiohttp_client(app)
    return client


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def test_healthz_ok_with_memory_backends(app_ctx: AppContext, aiohttp_client: Any) -> None:
    client = await make_client(aiohttp_client, app_ctx)
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"db": True, "redis": None, "status": "ok"}


@pytest.mark.redis
async def test_healthz_with_redis(db_url: str, redis_url: str, tmp_path: Path, aiohttp_client: Any) -> None:
    settings = Settings(database_url=db_url, redis_url=redis_url, media_dir=tmp_path / "media")
    ctx = await build_context(settings, clock=FixedClock(), migrate=False, with_nlu=False)
    try:
        assert ctx.redis is not None
        client = await make_client(aiohttp_client, ctx)
        assert await (await client.get("/healthz")).json() == {"db": True, "redis": True, "status": "ok"}
        # the conversation state really lives in Redis
        tab = await client.ws_connect("/webchat/ws?user=redis-user")
        await tab.send_json({"text": "/start", "id": "r1"})
        assert "Tiếng Dân" in (await tab.receive_json(timeout=15))["text"]
        assert await ctx.redis.exists("td:session:web:redis-user") == 1
        assert await ctx.redis.exists("td:dedupe:web:redis-user:c-r1") == 1
    finally:
        await ctx.close()


async def test_healthz_reports_a_dead_database(tmp_path: Path, clock: FixedClock, aiohttp_client: Any) -> None:
    url = "postgresql+asyncpg://nobody@127.0.0.1:1/nothing"
    store = await Store.open(url, tmp_path / "media", clock, migrate=False)
    ctx = make_context(store, clock, database_url=url, media_dir=tmp_path / "media")
    try:
        client = await make_client(aiohttp_client, ctx)
        response = await client.get("/healthz")
        assert response.status == 503
        assert await response.json() == {"db": False, "redis": None, "status": "degraded"}
    finally:
        await ctx.close()


async def test_metrics_count_messages_replies_and_latency(app_ctx: AppContext, aiohttp_client: Any) -> None:
    client = await make_client(aiohttp_client, app_ctx)
    tab = await client.ws_connect("/webchat/ws?user=metered")
    await tab.send_str(json.dumps({"text": "/start"}))
    first = await tab.receive_json(timeout=15)
    assert first["text"]
    await tab.send_str("garbage")
    while "error" not in (await tab.receive_json(timeout=15)):
        pass

    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    values = samples(await response.text())
    web_label = (("channel", "web"),)
    assert values[("tiengdan_inbound_messages_total", web_label)] == 1.0
    assert values[("tiengdan_replies_total", web_label)] >= 2.0  # welcome + language question
    assert values[("tiengdan_handle_seconds_count", web_label)] == 1.0
    assert values[("tiengdan_handle_seconds_bucket", (("channel", "web"), ("le", "+Inf")))] == 1.0
    assert values[("tiengdan_rejected_frames_total", (("channel", "web"), ("reason", "bad_json")))] == 1.0
    assert ("tiengdan_errors_total", web_label) not in values


async def test_each_app_has_its_own_registry(app_ctx: AppContext, aiohttp_client: Any) -> None:
    one = await create_app(app_ctx.settings, ctx=app_ctx, workers=False)
    two = await create_app(app_ctx.settings, ctx=app_ctx, workers=False)
    assert one[METRICS].registry is not two[METRICS].registry
    assert one[CTX] is two[CTX] is app_ctx
    one[METRICS].inbound.labels("web").inc()
    assert b'tiengdan_inbound_messages_total{channel="web"} 1.0' in one[METRICS].render()
    assert b"tiengdan_inbound_messages_total{" not in two[METRICS].render()


async def test_without_tokens_only_web_is_mounted(app_ctx: AppContext, aiohttp_client: Any) -> None:
    client = await make_client(aiohttp_client, app_ctx)
    assert (await client.post("/telegram/webhook", json={})).status in (404, 405)
    assert (await client.post("/zalo/webhook", json={})).status in (404, 405)
    assert "web" in app_ctx.channels
    assert (await client.get("/")).status == 200


@pytest.fixture
def sqlite_copy(tmp_path: Path, sqlite_template: Path) -> Path:
    db = tmp_path / "fresh.db"
    shutil.copyfile(sqlite_template, db)
    return db


async def test_create_app_builds_and_closes_its_own_context(tmp_path: Path, aiohttp_client: Any,
                                                           sqlite_copy: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """What `make run` does: SQLite + memory, no tokens; the context is closed at shutdown."""
    db = sqlite_copy
    settings = Settings(database_url=f"sqlite+aiosqlite:///{db}", media_dir=tmp_path / "media",
                        redis_url=None, telegram_token=None, zalo_app_id=None, rasa_url=None)
    closed: list[AppContext] = []
    original_close = AppContext.close

    async def spy(self: AppContext) -> None:
        closed.append(self)
        await original_close(self)

    monkeypatch.setattr(AppContext, "close", spy)
    monkeypatch.setattr("bot.bootstrap._embedded_nlu", _no_nlu)
    app = await create_app(settings)
    ctx = app[CTX]
    assert ctx.settings is settings and ctx.redis is None
    client: TestClient[Any, Any] = await aiohttp_client(app)
    assert (await client.get("/healthz")).status == 200
    assert app[ENGINE].ctx is ctx
    assert closed == []
    await client.close()
    assert closed == [ctx]


async def _no_nlu(settings: Settings) -> None:
    return None


async def test_model_parse_route_uses_the_context_nlu(app_ctx: AppContext, aiohttp_client: Any) -> None:
    from nlu.types import ParseResult

    class FakeNLU:
        async def parse(self, text: str) -> ParseResult:
            return ParseResult(text, {"name": "greet", "confidence": 0.9},
                               [{"name": "greet", "confidence": 0.9}], [], None)

    app_ctx.nlu = FakeNLU()  # type: ignore[assignment]
    client = await make_client(aiohttp_client, app_ctx)
    response = await client.post("/model/parse", json={"text": "xin chào"})
    assert response.status == 200
    body = await response.json()
    assert body["text"] == "xin chào" and body["intent"]["name"] == "greet"
    assert (await client.post("/model/parse", data=b"{bad")).status == 400


async def test_no_nlu_means_no_parse_route(app_ctx: AppContext, aiohttp_client: Any) -> None:
    assert app_ctx.nlu is None
    client = await make_client(aiohttp_client, app_ctx)
    assert (await client.post("/model/parse", json={"text": "x"})).status in (404, 405)


async def test_background_worker_runs_and_is_cancelled(app_ctx: AppContext, aiohttp_client: Any) -> None:
    state: list[str] = []

    async def worker(ctx: AppContext, engine: Any) -> None:
        import asyncio

        state.append("started")
        try:
            await asyncio.Event().wait()
        finally:
            state.append("stopped")

    app = await create_app(app_ctx.settings, ctx=app_ctx, workers=False)
    app.cleanup_ctx.append(background("test-worker", worker)(app[CTX], app[ENGINE]))
    client: TestClient[Any, Any] = await aiohttp_client(app)
    assert (await client.get("/healthz")).status == 200
    assert state == ["started"]
    await client.close()
    assert state == ["started", "stopped"]
