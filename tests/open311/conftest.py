from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.clock import FixedClock
from bot.context import AppContext
from bot.store import Store
from tests.harness import app_client, context_for

API_KEY = "test-key-311"


@pytest.fixture
async def ctx(store: Store, clock: FixedClock, tmp_path: Path) -> AsyncIterator[AppContext]:
    async with context_for(store, clock, media_dir=tmp_path / "media", open311_api_keys=[API_KEY],
                           public_url="https://tiengdan.example.vn/") as context:
        yield context


@pytest.fixture
async def client(ctx: AppContext, aiohttp_client: Any) -> TestClient[Any, Any]:
    return await app_client(ctx, aiohttp_client)
