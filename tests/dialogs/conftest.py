"""An engine with every dialog on a memory-backed context (participation reuses these fixtures)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.clock import FixedClock
from bot.context import AppContext
from bot.engine import Engine
from bot.store import Store
from tests.harness import context_for, make_engine


@pytest.fixture
async def ctx(store: Store, clock: FixedClock) -> AsyncIterator[AppContext]:
    async with context_for(store, clock) as context:
        yield context


@pytest.fixture
def engine(ctx: AppContext) -> Engine:
    return make_engine(ctx)
