"""Alembic migrations build exactly the schema of models.py, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from bot.clock import FixedClock
from bot.errors import ConfigError
from bot.store import Store
from bot.store.db import make_engine
from bot.store.migrate import (
    current_revision,
    downgrade,
    ensure_schema,
    head_revision,
    schema_diff,
    upgrade,
)
from bot.store.models import Base


async def _diff(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(schema_diff)
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_migrations_match_the_models(empty_db_url: str) -> None:
    await upgrade(empty_db_url)

    assert await current_revision(empty_db_url) == head_revision()
    assert await _diff(empty_db_url) == [], "run: python -m bot.store.make_migration --initial (see migrate.py)"
    assert await _tables(empty_db_url) == set(Base.metadata.tables) | {"alembic_version"}


async def test_downgrade_to_base_and_back(empty_db_url: str) -> None:
    await upgrade(empty_db_url)
    await downgrade(empty_db_url, "base")
    assert await _tables(empty_db_url) <= {"alembic_version"}
    await upgrade(empty_db_url)
    assert await _diff(empty_db_url) == []


async def test_ensure_schema_upgrades_only_when_needed(empty_db_url: str) -> None:
    assert await ensure_schema(empty_db_url) == "upgraded"
    assert await ensure_schema(empty_db_url) == "current"


async def test_ensure_schema_adopts_a_matching_unversioned_database(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    await engine.dispose()

    assert await ensure_schema(empty_db_url) == "stamped"
    assert await current_revision(empty_db_url) == head_revision()


async def test_ensure_schema_refuses_a_foreign_unversioned_database(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE cases (id INTEGER PRIMARY KEY, title TEXT)"))
    await engine.dispose()

    with pytest.raises(ConfigError):
        await ensure_schema(empty_db_url)


async def test_store_open_migrates_an_empty_database(empty_db_url: str, tmp_path: Path) -> None:
    clock = FixedClock()
    store = await Store.open(empty_db_url, tmp_path / "media", clock)
    try:
        assert await store.areas.count() == 0
        assert await store.areas.provinces() == []
        assert await store.areas.load_from_package() == 3355
        assert len(await store.areas.provinces()) == 34, "the index is rebuilt after a load"
        citizen = await store.citizens.get_or_create("webchat", "w1")
        case = await store.cases.create(
            citizen.id,
            category="other",
            description="đèn đường hỏng",
            area_id=None,
            lat=None,
            lon=None,
            anonymous=False,
            channel="webchat",
        )
        assert (await store.cases.get_by_code(case.code)) == case
    finally:
        await store.close()
