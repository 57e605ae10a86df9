"""At-most-once handling of platform messages that arrive more than once (webhook retries).

A key is *claimed* before work starts and *released* if the work fails, so the platform's
retry is handled instead of dropped: nothing is lost, nothing is done twice.
"""

from __future__ import annotations

import abc
import time

from redis.asyncio import Redis


class Deduper(abc.ABC):
    @abc.abstractmethod
    async def claim(self, key: str, ttl_seconds: int) -> bool:
        """True if this is the first time `key` is seen (within the TTL)."""

    @abc.abstractmethod
    async def release(self, key: str) -> None:
        """Forget `key` so a retry is processed."""

    async def close(self) -> None:
        return None


class MemoryDeduper(Deduper):
    def __init__(self, max_keys: int = 200_000) -> None:
        self._seen: dict[str, float] = {}
        self._max_keys = max_keys

    async def claim(self, key: str, ttl_seconds: int) -> bool:
        now = time.monotonic()
        expires = self._seen.get(key)
        if expires is not None and expires > now:
            return False
        if len(self._seen) >= self._max_keys:
            self._seen = {k: v for k, v in self._seen.items() if v > now}
        self._seen[key] = now + ttl_seconds
        return True

    async def release(self, key: str) -> None:
        self._seen.pop(key, None)


class RedisDeduper(Deduper):
    def __init__(self, client: Redis, prefix: str = "td:dedupe:") -> None:
        self._redis = client
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str) -> RedisDeduper:
        return cls(Redis.from_url(url))

    async def claim(self, key: str, ttl_seconds: int) -> bool:
        return bool(await self._redis.set(self._prefix + key, b"1", nx=True, ex=ttl_seconds))

    async def release(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    async def close(self) -> None:
        await self._redis.aclose()
