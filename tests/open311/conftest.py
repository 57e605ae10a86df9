from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.clock import FixedClock
from bot.context import AppContext
from bot.server import create_app
from bot.store import Store
from tests.harness import make_context

API_KEY = "test-key-311"


@pytest.fixture
async def ctx(store: Store, clock: FixedClock, tmp_path: Path) -> AsyncIterator[AppContext]:
    context = make_context(store, clock, media_dir=tmp_path / "media", open311_api_keys=[API_KEY],
                           public_url="https://tiengdan.example.vn/")
    yield context
    await context.sessions.close()


@pytest.fixture
async def client(ctx: AppContext, aiohttp_client: Any) -> TestClient[Any, Any]:
    app = await create_app(ctx.settings, ctx=ctx, workers=False)
    result: TestClient[Any, Any] = await aiohttp_client(app)
    return result
