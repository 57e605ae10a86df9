"""Conversation state: one `Session` per (channel, user), in memory or in Redis.

Losing a session loses at most a half-finished step: everything that matters is in the case
store. Sessions live `draft_ttl` (24 h) so a half-filed report survives; the engine decides
separately when a session counts as idle (30 min) and restarts politely.
"""

from __future__ import annotations

import abc
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from redis.asyncio import Redis


@dataclass
class Session:
    state: str = ""  # "" = no dialog in progress
    data: dict[str, Any] = field(default_factory=dict)  # the current dialog's scratch space
    buttons: list[str] = field(default_factory=list)  # payloads of the last prompt, in order
    prompt: dict[str, Any] | None = None  # the last prompt (Outbound.to_dict), to ask again
    locale: str | None = None
    citizen_id: int | None = None
    updated_at: float = 0.0  # epoch seconds of the last handled message

    def reset(self) -> None:
        """Leave any dialog; keep who the user is."""
        self.state = ""
        self.data = {}
        self.buttons = []
        self.prompt = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> Session:
        data = json.loads(raw)
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


class SessionStore(abc.ABC):
    """Where sessions live between messages."""

    @abc.abstractmethod
    async def load(self, key: str) -> Session | None: ...

    @abc.abstractmethod
    async def save(self, key: str, session: Session, ttl_seconds: int) -> None: ...

    @abc.abstractmethod
    async def delete(self, key: str) -> None: ...

    async def close(self) -> None:
        return None


class MemorySessionStore(SessionStore):
    """For one process (development, tests, `make run`)."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[float, str]] = {}

    async def load(self, key: str) -> Session | None:
        item = self._items.get(key)
        if item is None:
            return None
        expires, raw = item
        if expires < time.monotonic():
            del self._items[key]
            return None
        return Session.from_json(raw)

    async def save(self, key: str, session: Session, ttl_seconds: int) -> None:
        self._items[key] = (time.monotonic() + ttl_seconds, session.to_json())
        if len(self._items) > 10_000 and len(self._items) % 1000 == 0:
            self._evict()

    async def delete(self, key: str) -> None:
        self._items.pop(key, None)

    def _evict(self) -> None:
        now = time.monotonic()
        for key in [k for k, (exp, _) in self._items.items() if exp < now]:
            del self._items[key]


class RedisSessionStore(SessionStore):
    """Shared by every process; keys expire on their own."""

    def __init__(self, client: Redis, prefix: str = "td:session:") -> None:
        self._redis = client
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str) -> RedisSessionStore:
        return cls(Redis.from_url(url))

    async def load(self, key: str) -> Session | None:
        raw = await self._redis.get(self._prefix + key)
        return Session.from_json(raw) if raw is not None else None

    async def save(self, key: str, session: Session, ttl_seconds: int) -> None:
        await self._redis.set(self._prefix + key, session.to_json(), ex=ttl_seconds)

    async def delete(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    async def close(self) -> None:
        await self._redis.aclose()
