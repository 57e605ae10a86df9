"""bot/ratelimit.py: the token bucket in memory and in Redis (shared across processes)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator

import pytest

from bot.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    if request.param == "memory":
        yield MemoryRateLimiter()
        return
    url = request.getfixturevalue("redis_url")
    redis_limiter = RedisRateLimiter.from_url(url)
    try:
        yield redis_limiter
    finally:
        await redis_limiter.close()


async def test_burst_then_steady_rate(limiter: RateLimiter) -> None:
    started = time.monotonic()
    for _ in range(3):
        await limiter.acquire("k:burst", rate=10.0, burst=3)  # the burst is free
    assert time.monotonic() - started < 0.08
    for _ in range(3):
        await limiter.acquire("k:burst", rate=10.0, burst=3)  # then one every 0.1 s
    assert time.monotonic() - started >= 0.27


async def test_try_acquire_takes_only_what_is_there(limiter: RateLimiter) -> None:
    assert await limiter.try_acquire("k:try", rate=2.0) == 0.0
    wait = await limiter.try_acquire("k:try", rate=2.0)
    assert 0.3 < wait <= 0.5
    again = await limiter.try_acquire("k:try", rate=2.0)
    assert 0.3 < again <= wait  # nothing was taken by the refused attempt
    await asyncio.sleep(wait)
    assert await limiter.try_acquire("k:try", rate=2.0) == 0.0


async def test_concurrent_waiters_are_spread_fairly(limiter: RateLimiter) -> None:
    done: list[float] = []
    started = time.monotonic()

    async def one() -> None:
        await limiter.acquire("k:fair", rate=20.0)
        done.append(time.monotonic() - started)

    await asyncio.gather(*(one() for _ in range(6)))
    done.sort()
    assert done[-1] >= 0.24  # 6 tokens at 20/s: the last waits 5 × 50 ms
    assert all(b - a >= 0.03 for a, b in itertools.pairwise(done)), done


async def test_buckets_are_independent(limiter: RateLimiter) -> None:
    await limiter.acquire("k:a", rate=1.0)
    assert await limiter.try_acquire("k:b", rate=1.0) == 0.0
    assert await limiter.try_acquire("k:a", rate=1.0) > 0.5


async def test_bad_parameters_are_refused(limiter: RateLimiter) -> None:
    with pytest.raises(ValueError):
        await limiter.acquire("k:bad", rate=0.0)
    with pytest.raises(ValueError):
        await limiter.try_acquire("k:bad", rate=1.0, burst=0)


@pytest.mark.redis
async def test_redis_buckets_are_shared_between_clients(redis_url: str) -> None:
    first, second = RedisRateLimiter.from_url(redis_url), RedisRateLimiter.from_url(redis_url)
    try:
        assert await first.try_acquire("tg:global", rate=1.0, burst=2) == 0.0
        assert await second.try_acquire("tg:global", rate=1.0, burst=2) == 0.0
        assert await first.try_acquire("tg:global", rate=1.0, burst=2) > 0.5  # the other process spent it
    finally:
        await first.close()
        await second.close()


async def test_memory_limiter_evicts_full_buckets() -> None:
    limiter = MemoryRateLimiter(max_keys=10)
    for i in range(50):
        await limiter.try_acquire(f"k:{i}", rate=1000.0)
        await asyncio.sleep(0.002)
    assert len(limiter._buckets) <= 11
