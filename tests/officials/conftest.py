from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot import sla
from bot.clock import FixedClock
from bot.config import Settings
from bot.context import AppContext
from bot.engine import Engine
from bot.store import CaseInfo, Store
from bot.store.models import Delivery
from tests.harness import make_context, make_engine
from tests.outbox.fakes import RecordingChannel

HUE = "46"  # Thành phố Huế
THUAN_HOA = "19789"  # Phường Thuận Hóa, Huế
VY_DA = "19777"  # Phường Vỹ Dạ, Huế
HOAN_KIEM = "00070"  # Phường Hoàn Kiếm, Hà Nội


@pytest.fixture
async def ctx(store: Store, clock: FixedClock) -> AsyncIterator[AppContext]:
    context = make_context(store, clock)
    for name in ("web", "telegram", "console"):
        context.channels.register(RecordingChannel(name))
    yield context
    await context.sessions.close()


@pytest.fixture
def engine(ctx: AppContext) -> Engine:
    return make_engine(ctx)


def channel(ctx: AppContext, name: str) -> RecordingChannel:
    found = ctx.channels.get(name)
    assert isinstance(found, RecordingChannel)
    return found


async def new_case(store: Store, *, user: str = "c1", via: str = "web", area_code: str | None = THUAN_HOA,
                   category: str = "traffic_roads", anonymous: bool = False,
                   description: str = "Ổ gà") -> CaseInfo:
    """A case filed directly through the store, with deadlines as the report dialog sets them."""
    citizen = await store.citizens.get_or_create(via, user, display_name=f"Dân {user}")
    area = await store.areas.by_code(area_code) if area_code else None
    ack_due, due = sla.due_times(Settings(), store.clock.now(), category)
    return await store.cases.create(citizen.id, category=category, description=description,
                                    area_id=area.id if area else None, lat=None, lon=None, anonymous=anonymous,
                                    channel=via, ack_due_at=ack_due, due_at=due)


async def deliveries(store: Store) -> list[Delivery]:
    async with store.cases.read() as s:
        return list(await s.scalars(select(Delivery).order_by(Delivery.id)))
