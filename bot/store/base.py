"""The unit of work every repository (and later feature repositories) builds on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from bot.clock import Clock
from bot.errors import Conflict
from bot.store.db import READ_ONLY_OPTION


class Repo:
    """A repository: a sessionmaker and a clock, and short transactions via `session()`."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """One transaction: committed on normal exit, rolled back on error.

        An optimistic-lock failure (the `version` column of a case moved underneath us) is
        raised as `Conflict`, so callers can reload and retry or tell the user.
        """
        async with self.sessionmaker() as session:
            try:
                async with session.begin():
                    yield session
            except StaleDataError as exc:
                raise Conflict(str(exc)) from exc

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only (never commits; rolled back on exit).

        On SQLite it does not take the write lock, so it may wrap calls that write. Do not nest
        `session()` inside `session()`: on SQLite the inner one would wait for the outer.
        """
        async with self.sessionmaker() as session:
            await session.connection(execution_options={READ_ONLY_OPTION: True})
            yield session


def is_unique_violation(exc: IntegrityError) -> bool:
    """True when an IntegrityError comes from a UNIQUE constraint (SQLite or PostgreSQL)."""
    text = str(exc.orig).lower()
    return "unique" in text or "duplicate key" in text
