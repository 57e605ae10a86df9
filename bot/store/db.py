"""Engine and session factory for the case store: SQLite (dev, small sites) or PostgreSQL.

SQLite gets WAL (readers never block the writer), foreign keys, a generous busy timeout and
`BEGIN IMMEDIATE` transactions: a transaction takes the write lock up front, so two
concurrent read-then-write transactions queue instead of failing with "database is locked".
Read-only sessions (`Repo.read()`) begin deferred instead.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Execution option marking a read-only transaction: on SQLite it starts deferred (plain BEGIN),
# so reads never wait for a writer and a write inside a read never deadlocks.
READ_ONLY_OPTION = "tiengdan_read_only"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine for `url` (`sqlite+aiosqlite:///…` or `postgresql+asyncpg://…`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, echo=echo)
    kwargs: dict[str, Any] = {
        "pool_size": 10,
        "max_overflow": 10,
        "pool_pre_ping": True,
        "pool_recycle": 1800,
    }
    return create_async_engine(url, echo=echo, **kwargs)


def _sqlite_engine(url: str, *, echo: bool) -> AsyncEngine:
    engine = create_async_engine(
        url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    )
    in_memory = make_url(url).database in (None, "", ":memory:")

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions start (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        read_only = conn.get_execution_options().get(READ_ONLY_OPTION, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose loaded objects stay readable after commit (we convert them to views)."""
    return async_sessionmaker(engine, expire_on_commit=False)
