"""Per-conversation locks: two messages of one user are handled one after the other.

The session is loaded only after the lock is taken (aiogram's bug #1317 is the lesson).
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from redis.asyncio import Redis


class LockManager(abc.ABC):
    @abc.abstractmethod
    def lock(self, key: str) -> AbstractAsyncContextManager[None]: ...

    async def close(self) -> None:
        return None



class MemoryLocks(LockManager):
    """asyncio locks, dropped when nobody holds or waits for them."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:  # type: ignore[override]
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class RedisLocks(LockManager):
    """Locks shared by every process, with a timeout so a crashed holder cannot block forever."""

    def __init__(self, client: Redis, prefix: str = "td:lock:", timeout: float = 30.0,
                 wait: float = 20.0) -> None:
        self._redis = client
        self._prefix = prefix
        self._timeout = timeout
        self._wait = wait

    @classmethod
    def from_url(cls, url: str) -> RedisLocks:
        return cls(Redis.from_url(url))

    @asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:  # type: ignore[override]
        lock = self._redis.lock(self._prefix + key, timeout=self._timeout,
                                blocking_timeout=self._wait, sleep=0.02)
        async with lock:
            yield

    async def close(self) -> None:
        await self._redis.aclose()
