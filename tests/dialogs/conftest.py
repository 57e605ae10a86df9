from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.clock import FixedClock
from bot.context import AppContext
from bot.engine import Engine
from bot.store import Store
from tests.harness import make_context, make_engine


@pytest.fixture
async def ctx(store: Store, clock: FixedClock) -> AsyncIterator[AppContext]:
    context = make_context(store, clock)
    yield context
    await context.sessions.close()


@pytest.fixture
def engine(ctx: AppContext) -> Engine:
    return make_engine(ctx)
