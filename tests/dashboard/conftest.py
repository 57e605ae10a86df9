"""A small, fully known set of cases, so every figure on the dashboard can be checked by hand.

Filed Monday 2026-01-05 09:00 (Huế time) unless said otherwise; "now" ends two days later.

| case | area            | category      | story                                                   |
|------|-----------------|---------------|---------------------------------------------------------|
| A    | Thuận Hóa (Huế) | traffic_roads | ack +2 h, resolved +10 h (on time)                      |
| B    | Hoàn Kiếm (HN)  | health        | anonymous, phone typed in text, ack +4 h, still open    |
| C    | none            | other         | never touched: overdue at the end                       |
| D    | Vỹ Dạ (Huế)     | traffic_roads | deadline +1 h, ack +6 h, resolved +12 h (late)          |
| E    | Thuận Hóa (Huế) | health        | filed 200 days earlier, never touched                   |
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot import sla
from bot.clock import FixedClock
from bot.context import AppContext
from bot.store import CaseInfo, Store
from tests.harness import app_client, context_for

THUAN_HOA, VY_DA, HOAN_KIEM, HUE = "19789", "19777", "00070", "46"


@dataclass
class World:
    a: CaseInfo
    b: CaseInfo
    c: CaseInfo
    d: CaseInfo
    e: CaseInfo


@pytest.fixture
async def ctx(store: Store, clock: FixedClock, tmp_path: Path) -> AsyncIterator[AppContext]:
    async with context_for(store, clock, media_dir=tmp_path / "media") as context:
        yield context


@pytest.fixture
async def client(ctx: AppContext, aiohttp_client: Any) -> TestClient[Any, Any]:
    return await app_client(ctx, aiohttp_client)


async def _case(ctx: AppContext, user: str, area_code: str | None, category: str, *, anonymous: bool = False,
                description: str | None = None, lat: float | None = None, lon: float | None = None,
                due_in: timedelta | None = None) -> CaseInfo:
    store = ctx.store
    citizen = await store.citizens.get_or_create("telegram", user, display_name=f"Người dân {user}")
    area = await store.areas.by_code(area_code) if area_code else None
    ack_due, due = sla.due_times(ctx.settings, ctx.clock.now(), category)
    if due_in is not None:
        due = ctx.clock.now() + due_in
    return await store.cases.create(citizen.id, category=category, description=description,
                                    area_id=area.id if area else None, lat=lat, lon=lon, anonymous=anonymous,
                                    channel="telegram", ack_due_at=ack_due, due_at=due)


@pytest.fixture
async def world(ctx: AppContext, clock: FixedClock) -> World:
    t0 = clock.now()
    clock.set(t0 - timedelta(days=200))
    e = await _case(ctx, "900005", THUAN_HOA, "health")
    clock.set(t0)
    a = await _case(ctx, "900001", THUAN_HOA, "traffic_roads", description="Ổ gà", lat=16.4637123, lon=107.5909456)
    b = await _case(ctx, "900002", HOAN_KIEM, "health", anonymous=True,
                    description="Trạm y tế đóng cửa, gọi 0912 345 678 hoặc x@y.vn", lat=21.0285123, lon=105.8542456)
    c = await _case(ctx, "900003", None, "other", description="Việc khác")
    d = await _case(ctx, "900004", VY_DA, "traffic_roads", due_in=timedelta(hours=1))
    cases = ctx.store.cases
    clock.set(t0 + timedelta(hours=2))
    await cases.acknowledge(a.id, official_id=1)
    clock.set(t0 + timedelta(hours=4))
    await cases.acknowledge(b.id, official_id=1)
    clock.set(t0 + timedelta(hours=6))
    await cases.acknowledge(d.id, official_id=1)
    clock.set(t0 + timedelta(hours=10))
    await cases.set_status(a.id, "resolved", official_id=1, note="Đã vá")
    clock.set(t0 + timedelta(hours=12))
    await cases.set_status(d.id, "resolved", official_id=1, note="Đã vá")
    clock.set(t0 + timedelta(days=2))
    return World(*[c for c in [await cases.get(x.id) for x in (a, b, c, d, e)] if c is not None])
