from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.clock import FixedClock
from bot.context import AppContext
from bot.store import Store
from tests.harness import make_context
from tests.outbox.fakes import RecordingChannel


@pytest.fixture
async def ctx(store: Store, clock: FixedClock) -> AsyncIterator[AppContext]:
    context = make_context(store, clock, outbox_batch_size=10, outbox_max_attempts=3)
    for name in ("web", "telegram"):
        context.channels.register(RecordingChannel(name))
    yield context
    await context.sessions.close()
