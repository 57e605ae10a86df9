from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.clock import FixedClock
from bot.context import AppContext
from bot.engine import Engine
from bot.store import Store
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
