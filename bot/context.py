"""The application context: every long-lived dependency, built once by a composition root.

Dialogs, channels and workers receive it instead of reaching for globals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.channels import ChannelRegistry
from bot.clock import Clock
from bot.config import Settings
from bot.dedupe import Deduper
from bot.i18n import Catalogs
from bot.locks import LockManager
from bot.sessions import SessionStore

if TYPE_CHECKING:
    from bot.store import Store
    from nlu import NLU


@dataclass
class AppContext:
    settings: Settings
    clock: Clock
    store: Store
    sessions: SessionStore
    dedupe: Deduper
    locks: LockManager
    i18n: Catalogs
    nlu: NLU | None = None
    channels: ChannelRegistry = field(default_factory=ChannelRegistry)
    redis: Any = None  # a redis.asyncio.Redis when TIENGDAN_REDIS_URL is set (rate limits)

    async def close(self) -> None:
        await self.sessions.close()
        await self.dedupe.close()
        await self.locks.close()
        await self.store.close()
        if self.redis is not None:
            await self.redis.aclose()
