"""Schema migrations (Alembic), configured in code so they run from an installed package.

`upgrade(url)` brings a database to the newest revision; `ensure_schema(url)` does that only
when needed (`serve` calls it for SQLite). Revisions live in `bot/store/migrations/versions/`.

Regenerating after models.py changes (reproducible, against a scratch SQLite file):

    .venv/bin/python -m bot.store.make_migration --initial      # rewrite 0001_initial.py
    .venv/bin/python -m bot.store.make_migration "add polls"    # or: next numbered revision

then read the generated file, and run `pytest tests/store/test_migrations.py`, which checks
that the migrated schema equals models.py on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from bot.errors import ConfigError
from bot.store.db import make_engine
from bot.store.models import Base

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_PG_LOCK_KEY = 7_153_204_611  # any constant: serialises concurrent upgrades on PostgreSQL


def alembic_config(url: str | None = None) -> Config:
    """An Alembic Config pointing at the packaged migrations (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def schema_diff(connection: Connection) -> list[Any]:
    """Differences between the database and models.py (empty when they agree)."""
    ctx = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(ctx, Base.metadata))


def _lock(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")


def _run(connection: Connection, cfg: Config, action: str, revision: str) -> None:
    _lock(connection)
    cfg.attributes["connection"] = connection
    if action == "upgrade":
        command.upgrade(cfg, revision)
    elif action == "downgrade":
        command.downgrade(cfg, revision)
    else:
        command.stamp(cfg, revision)


async def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision` in one transaction."""
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run, alembic_config(url), "upgrade", revision)
    finally:
        await engine.dispose()
    log.info("database upgraded to %s", revision)


async def downgrade(url: str, revision: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run, alembic_config(url), "downgrade", revision)
    finally:
        await engine.dispose()


async def stamp(url: str, revision: str = "head") -> None:
    """Record `revision` as applied without running it (for a schema made by `create_all`)."""
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run, alembic_config(url), "stamp", revision)
    finally:
        await engine.dispose()


async def current_revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_current)
    finally:
        await engine.dispose()


def _ensure(connection: Connection, cfg: Config) -> str:
    _lock(connection)
    head = ScriptDirectory.from_config(cfg).get_current_head()
    current = _current(connection)
    if current == head:
        return "current"
    tables = set(inspect(connection).get_table_names())
    if current is None and tables & set(Base.metadata.tables):
        # Made by create_all() or an old tool: adopt it only if it already matches the models.
        diff = schema_diff(connection)
        if diff:
            raise ConfigError(f"unversioned database differs from models: {diff[:3]}")
        _run(connection, cfg, "stamp", "head")
        return "stamped"
    _run(connection, cfg, "upgrade", "head")
    return "upgraded"


async def ensure_schema(url: str) -> str:
    """Bring an empty or older database to the newest schema; returns "current", "upgraded" or "stamped"."""
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            outcome = await conn.run_sync(_ensure, alembic_config(url))
    finally:
        await engine.dispose()
    if outcome != "current":
        log.info("schema %s at %s", outcome, url.split("@")[-1])
    return outcome
