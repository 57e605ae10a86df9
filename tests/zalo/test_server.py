"""The composition root mounts the channel from settings alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FixedClock
from bot.server import create_app
from bot.store import Store
from integrations.zalo import ZALO_RUNTIME, ZaloChannel
from tests.harness import make_context
from tests.zalo.conftest import Events, sign
from tests.zalo.fake_zalo import APP_ID, APP_SECRET, FIRST_ACCESS, FIRST_REFRESH, OA_SECRET, FakeZalo


async def test_server_mounts_zalo(store: Store, clock: FixedClock, fake_zalo: FakeZalo, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch, aiohttp_client: Any) -> None:
    monkeypatch.setenv("TIENGDAN_ZALO_API_URL", fake_zalo.url)
    monkeypatch.setenv("TIENGDAN_ZALO_OAUTH_URL", fake_zalo.url)
    ctx = make_context(store, clock, media_dir=tmp_path / "media", zalo_app_id=APP_ID,
                       zalo_oa_secret=OA_SECRET, zalo_app_secret=APP_SECRET,
                       zalo_access_token=FIRST_ACCESS, zalo_refresh_token=FIRST_REFRESH)
    try:
        app = await create_app(ctx.settings, ctx=ctx, workers=False)
        assert isinstance(ctx.channels.get("zalo"), ZaloChannel)
        client = await aiohttp_client(app)
        body = Events(clock).follow("srv-1")
        raw = json.dumps(body).encode()
        resp = await client.post("/zalo/webhook", data=raw,
                                 headers={"X-ZEvent-Signature": sign(raw, body["timestamp"])})
        assert resp.status == 200 and (await resp.json()) == {"result": "accepted"}
        await app[ZALO_RUNTIME].intake.drain()
        assert fake_zalo.sends("srv-1")
        exported = await (await client.get("/metrics")).text()
        assert 'tiengdan_zalo_webhook_events_total{result="accepted"} 1.0' in exported
    finally:
        await ctx.sessions.close()
