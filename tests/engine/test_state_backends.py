"""Sessions, de-duplication and locks behave the same in memory and in Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.dedupe import Deduper, MemoryDeduper, RedisDeduper
from bot.locks import LockManager, MemoryLocks, RedisLocks
from bot.sessions import MemorySessionStore, RedisSessionStore, Session, SessionStore


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "redis":
        request.getfixturevalue("redis_url")
    return str(request.param)


@pytest.fixture
async def sessions(backend: str, request: pytest.FixtureRequest) -> AsyncIterator[SessionStore]:
    store: SessionStore = (RedisSessionStore.from_url(request.getfixturevalue("redis_url"))
                           if backend == "redis" else MemorySessionStore())
    yield store
    await store.close()


@pytest.fixture
async def dedupe(backend: str, request: pytest.FixtureRequest) -> AsyncIterator[Deduper]:
    d: Deduper = RedisDeduper.from_url(request.getfixturevalue("redis_url")) if backend == "redis" else MemoryDeduper()
    yield d
    await d.close()


@pytest.fixture
async def locks(backend: str, request: pytest.FixtureRequest) -> AsyncIterator[LockManager]:
    lm: LockManager = RedisLocks.from_url(request.getfixturevalue("redis_url")) if backend == "redis" else MemoryLocks()
    yield lm
    await lm.close()


async def test_session_round_trip_and_expiry(sessions: SessionStore) -> None:
    assert await sessions.load("web:a") is None
    s = Session(state="report:desc", data={"report": {"media": [], "description": "Đường ngập"}},
                buttons=["report:skipdesc"], locale="vi", citizen_id=7, updated_at=1.5)
    await sessions.save("web:a", s, ttl_seconds=60)
    loaded = await sessions.load("web:a")
    assert loaded == s
    await sessions.save("web:b", s, ttl_seconds=1)
    await asyncio.sleep(1.2)
    assert await sessions.load("web:b") is None
    await sessions.delete("web:a")
    assert await sessions.load("web:a") is None


async def test_session_reset_keeps_identity() -> None:
    s = Session(state="x", data={"a": 1}, buttons=["p"], prompt={"text": "q"}, locale="en", citizen_id=3)
    s.reset()
    assert (s.state, s.data, s.buttons, s.prompt, s.locale, s.citizen_id) == ("", {}, [], None, "en", 3)


async def test_dedupe_claim_once_and_release(dedupe: Deduper) -> None:
    results = await asyncio.gather(*(dedupe.claim("telegram:1", 60) for _ in range(10)))
    assert sorted(results) == [False] * 9 + [True]
    await dedupe.release("telegram:1")
    assert await dedupe.claim("telegram:1", 60)


async def test_lock_serialises_one_conversation(locks: LockManager) -> None:
    inside = 0
    peak = 0
    order: list[Any] = []

    async def worker(i: int) -> None:
        nonlocal inside, peak
        async with locks.lock("web:same"):
            inside += 1
            peak = max(peak, inside)
            order.append(i)
            await asyncio.sleep(0.01)
            inside -= 1

    await asyncio.gather(*(worker(i) for i in range(8)))
    assert peak == 1 and sorted(order) == list(range(8))


async def test_locks_of_different_conversations_do_not_block(locks: LockManager) -> None:
    async with locks.lock("web:one"):
        await asyncio.wait_for(_enter(locks, "web:two"), timeout=2)


async def _enter(locks: LockManager, key: str) -> None:
    async with locks.lock(key):
        return
