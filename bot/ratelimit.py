"""Token-bucket rate limits shared by every sender (channel replies, outbox, broadcasts).

A bucket named by `key` refills at `rate` tokens per second up to `burst` tokens; one send
costs one token. Two ways to use it:

* `await limiter.acquire(key, rate, burst)` — *reserve* a token and sleep until it is due.
  Reservations queue in arrival order (a bucket may go into debt), so waiters never starve
  and never all wake at once. Use it on send paths: `acquire("tg:chat:42", 1.0, 3)` then
  `acquire("tg:global", 30.0)`.
* `await limiter.try_acquire(key, rate, burst)` — take a token only if one is available now;
  returns 0.0 when taken, else the seconds until one will be (nothing taken). Use it to
  decide instead of wait (e.g. "at most one group notice per hour").

`MemoryRateLimiter` serves one process. `RedisRateLimiter` keeps buckets in Redis (one Lua
script, Redis server time), so every worker process shares the same budget — Telegram's
30 msg/s is per bot, not per process. Losing Redis loses only bucket levels.
"""

from __future__ import annotations

import abc
import asyncio
import math
import time

from redis.asyncio import Redis

__all__ = ["MemoryRateLimiter", "RateLimiter", "RedisRateLimiter"]


class RateLimiter(abc.ABC):
    """A set of named token buckets."""

    async def acquire(self, key: str, rate: float, burst: int = 1) -> None:
        """Reserve one token from bucket `key` and wait until it is due (FIFO per bucket)."""
        wait = await self._take(key, rate, burst, reserve=True)
        if wait > 0:
            await asyncio.sleep(wait)

    async def try_acquire(self, key: str, rate: float, burst: int = 1) -> float:
        """Take a token if one is there now (→ 0.0); otherwise the seconds until one will be."""
        return await self._take(key, rate, burst, reserve=False)

    @abc.abstractmethod
    async def _take(self, key: str, rate: float, burst: int, *, reserve: bool) -> float:
        """Seconds to wait before the taken token may be used (reserve) or before one exists."""

    async def close(self) -> None:
        return None


def _check(rate: float, burst: int) -> None:
    if not rate > 0 or burst < 1:
        raise ValueError(f"rate must be > 0 and burst ≥ 1 (got rate={rate}, burst={burst})")


class MemoryRateLimiter(RateLimiter):
    """Buckets in a dict (one process: development, tests, a single worker)."""

    def __init__(self, max_keys: int = 100_000) -> None:
        # key → (tokens, monotonic time of that level, rate, burst)
        self._buckets: dict[str, tuple[float, float, float, int]] = {}
        self._max_keys = max_keys

    async def _take(self, key: str, rate: float, burst: int, *, reserve: bool) -> float:
        _check(rate, burst)
        now = time.monotonic()
        bucket = self._buckets.get(key)
        tokens = float(burst) if bucket is None else min(float(burst), bucket[0] + (now - bucket[1]) * rate)
        if tokens >= 1.0:
            self._store(key, tokens - 1.0, now, rate, burst)
            return 0.0
        wait = (1.0 - tokens) / rate
        if reserve:
            self._store(key, tokens - 1.0, now, rate, burst)
        return wait

    def _store(self, key: str, tokens: float, now: float, rate: float, burst: int) -> None:
        if key not in self._buckets and len(self._buckets) >= self._max_keys:
            self._evict_full(now)
        self._buckets[key] = (tokens, now, rate, burst)

    def _evict_full(self, now: float) -> None:
        """Drop buckets that have refilled completely: they carry no information."""
        self._buckets = {
            k: v for k, v in self._buckets.items() if v[0] + (now - v[1]) * v[2] < v[3]
        }


# KEYS[1] bucket; ARGV rate, burst, reserve(0|1). Returns the wait in seconds as a string
# (Lua numbers returned to Redis are truncated to integers).
_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local reserve = ARGV[3] == '1'
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
else
  tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
end
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
  if not reserve then
    return tostring(wait)
  end
  tokens = tokens - 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return tostring(wait)
"""


class RedisRateLimiter(RateLimiter):
    """Buckets in Redis, shared by all processes; time is the Redis server's clock."""

    def __init__(self, client: Redis, prefix: str = "td:rate:") -> None:
        self._redis = client
        self._prefix = prefix
        self._script = client.register_script(_LUA)

    @classmethod
    def from_url(cls, url: str) -> RedisRateLimiter:
        return cls(Redis.from_url(url))

    async def _take(self, key: str, rate: float, burst: int, *, reserve: bool) -> float:
        _check(rate, burst)
        raw = await self._script(keys=[self._prefix + key], args=[repr(float(rate)), burst, int(reserve)])
        wait = float(raw.decode() if isinstance(raw, bytes) else raw)
        return 0.0 if not math.isfinite(wait) or wait <= 0 else wait

    async def close(self) -> None:
        await self._redis.aclose()
