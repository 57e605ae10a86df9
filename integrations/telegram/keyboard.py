"""Which chats currently show a reply keyboard (location/contact request), to remove it later.

A reply keyboard stays on the user's screen until a message carries ReplyKeyboardRemove, so
the channel remembers where it left one. Memory for one process, Redis when workers share
the load; losing the flag only leaves a stale keyboard (it is `one_time` anyway).
"""

from __future__ import annotations

import abc

from redis.asyncio import Redis

TTL_SECONDS = 24 * 3600


class KeyboardFlags(abc.ABC):
    @abc.abstractmethod
    async def mark(self, chat_id: str) -> None:
        """A reply keyboard is now shown in `chat_id`."""

    @abc.abstractmethod
    async def is_marked(self, chat_id: str) -> bool: ...

    @abc.abstractmethod
    async def clear(self, chat_id: str) -> None: ...


class MemoryKeyboardFlags(KeyboardFlags):
    def __init__(self) -> None:
        self._chats: set[str] = set()

    async def mark(self, chat_id: str) -> None:
        self._chats.add(chat_id)

    async def is_marked(self, chat_id: str) -> bool:
        return chat_id in self._chats

    async def clear(self, chat_id: str) -> None:
        self._chats.discard(chat_id)


class RedisKeyboardFlags(KeyboardFlags):
    def __init__(self, client: Redis, prefix: str = "td:tg:kb:") -> None:
        self._redis = client
        self._prefix = prefix

    async def mark(self, chat_id: str) -> None:
        await self._redis.set(self._prefix + chat_id, b"1", ex=TTL_SECONDS)

    async def is_marked(self, chat_id: str) -> bool:
        return bool(await self._redis.exists(self._prefix + chat_id))

    async def clear(self, chat_id: str) -> None:
        await self._redis.delete(self._prefix + chat_id)
