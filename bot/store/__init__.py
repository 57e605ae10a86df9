"""The case store: the one API through which the rest of the bot reads and writes durable data.

`Store.open(url, media_dir, clock)` migrates the database (unless told not to) and returns a
facade of small repositories. Every method returns frozen views (`bot.store.views`), never live
ORM objects. Feature code that needs a multi-step transaction uses a repository's `session()`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.store.areas import AreaRepo
from bot.store.audit import AuditRepo
from bot.store.cases import CaseRepo
from bot.store.citizens import DEFAULT_PHONE_SALT, UNSET, CitizenRepo
from bot.store.db import make_engine, make_sessionmaker
from bot.store.media import DEFAULT_MAX_MEDIA_BYTES, MediaStore, SavedMedia
from bot.store.migrate import ensure_schema
from bot.store.officials import OfficialRepo
from bot.store.views import (
    AreaInfo,
    AttachmentInfo,
    AuditInfo,
    CaseInfo,
    CitizenInfo,
    EventInfo,
    IdentityInfo,
)

__all__ = [
    "UNSET",
    "AreaInfo",
    "AttachmentInfo",
    "AuditInfo",
    "CaseInfo",
    "CitizenInfo",
    "EventInfo",
    "IdentityInfo",
    "MediaStore",
    "SavedMedia",
    "Store",
]

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Store:
    """The repositories over one database and one media directory."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: Clock
    media: MediaStore
    citizens: CitizenRepo
    cases: CaseRepo
    areas: AreaRepo
    audit: AuditRepo
    officials: OfficialRepo

    @classmethod
    async def open(
        cls,
        url: str,
        media_dir: Path,
        clock: Clock,
        *,
        max_media_bytes: int = DEFAULT_MAX_MEDIA_BYTES,
        migrate: bool = True,
        phone_salt: str = DEFAULT_PHONE_SALT,
    ) -> Store:
        """Connect (bringing the schema up to date when `migrate`) and build the repositories."""
        if migrate:
            await ensure_schema(url)
        engine = make_engine(url)
        sessionmaker = make_sessionmaker(engine)
        media = MediaStore(media_dir, max_bytes=max_media_bytes)
        return cls(
            engine=engine,
            sessionmaker=sessionmaker,
            clock=clock,
            media=media,
            citizens=CitizenRepo(sessionmaker, clock, phone_salt=phone_salt),
            cases=CaseRepo(sessionmaker, clock, media),
            areas=AreaRepo(sessionmaker, clock),
            audit=AuditRepo(sessionmaker, clock),
            officials=OfficialRepo(sessionmaker, clock),
        )

    async def close(self) -> None:
        """Release the connection pool."""
        await self.engine.dispose()
