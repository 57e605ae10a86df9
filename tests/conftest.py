"""Shared fixtures. Names are stable: other test packages reuse and extend them.

- `clock`      a `FixedClock` at 2026-01-05 02:00 UTC (advance it with `clock.advance(hours=1)`).
- `db_url`     parametrized `sqlite` | `postgres` (ids, so `-k sqlite` works; postgres also carries
               the `postgres` mark). The schema is models.py (`create_all`, stamped at Alembic head)
               with all 3,355 areas loaded once per session:
               * sqlite: a template file built once, copied fresh for every test;
               * postgres: `TIENGDAN_TEST_DATABASE_URL` (skipped when unset, a failure when CI=true).
                 Each pytest process works in its own database `<name>_<pid>` (created and dropped
                 here, so parallel runs never collide; falls back to the given database when it may
                 not create one); every table but `areas` and `alembic_version` is truncated
                 (RESTART IDENTITY CASCADE) before each test.
- `store`      an open `bot.store.Store` on `db_url` (media under `tmp_path/"media"`), closed after.
- `empty_db_url` parametrized `sqlite` | `postgres`: a brand-new empty database (no tables at
               all), dropped after the test; for migration and `db upgrade` tests.
- `redis_url`  `TIENGDAN_TEST_REDIS_URL` (same skip/fail rule), its db flushed before and after.

Migrations themselves are tested against fresh databases in tests/store/test_migrations.py.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.clock import FixedClock
from bot.store import Store
from bot.store.areas import AreaRepo
from bot.store.db import make_engine, make_sessionmaker
from bot.store.migrate import stamp
from bot.store.models import Base

KEEP_TABLES = {"areas", "alembic_version"}


def require_env(name: str) -> str:
    """The variable's value; skip the test when unset (fail instead when CI=true)."""
    value = os.environ.get(name)
    if not value:
        message = f"{name} is not set (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/tiengdan_test)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return value


async def build_schema(url: str) -> None:
    """models.py schema, stamped at Alembic head, with every area loaded."""
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        await AreaRepo(make_sessionmaker(engine), FixedClock()).load_from_package()
    finally:
        await engine.dispose()
    await stamp(url)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


# --- SQLite ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file with the schema and all areas, built once per session."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    asyncio.run(build_schema(f"sqlite+aiosqlite:///{path}"))
    con = sqlite3.connect(path)  # fold the WAL into the main file so one copy is complete
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()
    return path


# --- PostgreSQL ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PgDatabase:
    url: str
    tables: tuple[str, ...]  # tables to truncate between tests


async def _admin(url: str, statement: str) -> bool:
    """Run CREATE/DROP DATABASE on the server's maintenance database; False if refused."""
    admin_url = make_url(url).set(database="postgres")
    engine = make_engine(admin_url.render_as_string(hide_password=False))
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(statement))
        return True
    except Exception:
        return False
    finally:
        await engine.dispose()


async def _prepare_pg(base_url: str) -> tuple[str, bool]:
    parsed = make_url(base_url)
    name = f"{parsed.database or 'tiengdan_test'}_{os.getpid()}"
    own = await _admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)') and await _admin(
        base_url, f'CREATE DATABASE "{name}"'
    )
    url = parsed.set(database=name).render_as_string(hide_password=False) if own else base_url
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()
    await build_schema(url)
    return url, own


async def _tables(url: str) -> tuple[str, ...]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
            return tuple(sorted(r[0] for r in rows if r[0] not in KEEP_TABLES))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[PgDatabase]:
    """This session's PostgreSQL database with schema and areas (see module docstring)."""
    base_url = require_env("TIENGDAN_TEST_DATABASE_URL")
    url, own = asyncio.run(_prepare_pg(base_url))
    yield PgDatabase(url=url, tables=asyncio.run(_tables(url)))
    if own:
        name = make_url(url).database
        asyncio.run(_admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def truncate(db: PgDatabase) -> None:
    if not db.tables:
        return
    engine = make_engine(db.url)
    try:
        async with engine.begin() as conn:
            names = ", ".join(f'"{t}"' for t in db.tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


# --- the parametrized database ---------------------------------------------------------------


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL with the full schema and areas, empty of everything else."""
    if request.param == "sqlite":
        path = tmp_path / "store.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    db: PgDatabase = request.getfixturevalue("pg_database")
    asyncio.run(truncate(db))
    return db.url


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A brand-new database without any table."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    base_url = require_env("TIENGDAN_TEST_DATABASE_URL")
    parsed = make_url(base_url)
    name = f"{parsed.database or 'tiengdan_test'}_{os.getpid()}_empty"
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    if not (asyncio.run(_admin(base_url, drop)) and asyncio.run(_admin(base_url, f'CREATE DATABASE "{name}"'))):
        pytest.skip("may not create a scratch PostgreSQL database here")
    yield parsed.set(database=name).render_as_string(hide_password=False)
    asyncio.run(_admin(base_url, drop))


@pytest.fixture
async def store(db_url: str, tmp_path: Path, clock: FixedClock) -> AsyncIterator[Store]:
    """An open Store (areas loaded) on `db_url`; media under tmp_path/"media"."""
    s = await Store.open(db_url, tmp_path / "media", clock, migrate=False)
    try:
        yield s
    finally:
        await s.close()


# --- Redis -----------------------------------------------------------------------------------


@pytest.fixture
def redis_url() -> Iterator[str]:
    """`TIENGDAN_TEST_REDIS_URL`, flushed before and after the test."""
    import redis

    url = require_env("TIENGDAN_TEST_REDIS_URL")
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
        yield url
        client.flushdb()
    finally:
        client.close()


# === Composition (bot/bootstrap.py): `app_ctx`, `engine` — appended by the server/web helper ===
# `app_ctx` is the context `tiengdan serve` builds (bootstrap.build_context) on `db_url`, with
# in-memory sessions/dedupe/locks and no NLU; `engine` is the full dialog engine on it.
# Packages may override `engine` locally (tests/dialogs does).

from bot.context import AppContext  # noqa: E402
from bot.engine import Engine  # noqa: E402


@pytest.fixture
async def app_ctx(db_url: str, tmp_path: Path, clock: FixedClock) -> AsyncIterator[AppContext]:
    from bot.bootstrap import build_context
    from bot.config import Settings

    settings = Settings(database_url=db_url, media_dir=tmp_path / "media", redis_url=None)
    ctx = await build_context(settings, clock=clock, migrate=False, with_nlu=False)
    try:
        yield ctx
    finally:
        await ctx.close()


@pytest.fixture
def engine(app_ctx: AppContext) -> Engine:
    from bot.bootstrap import build_engine

    return build_engine(app_ctx)
