"""Generate Alembic revisions from models.py, reproducibly (a scratch SQLite database).

    .venv/bin/python -m bot.store.make_migration --initial       # rewrite versions/0001_initial.py
    .venv/bin/python -m bot.store.make_migration "add something"  # next revision, e.g. 0002_add_something.py

Read the generated file before committing; tests/store/test_migrations.py then proves the
migrated schema equals the models on SQLite and PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from bot.store.db import make_engine
from bot.store.migrate import MIGRATIONS_DIR, alembic_config

VERSIONS_DIR = MIGRATIONS_DIR / "versions"


def _revise(connection: Connection, url: str, message: str, rev_id: str) -> None:
    cfg = alembic_config(url)
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")
    command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)


async def generate(message: str, *, initial: bool = False) -> Path:
    """Write a new revision file (or rewrite the initial one) and return its path."""
    if initial:
        for old in VERSIONS_DIR.glob("*.py"):
            old.unlink()
        message, rev_id = "initial", "0001"
    else:
        heads = ScriptDirectory.from_config(alembic_config()).get_current_head()
        rev_id = f"{int(heads or '0') + 1:04d}"
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'scratch.db'}"
        engine = make_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(_revise, url, message, rev_id)
        finally:
            await engine.dispose()
    (path,) = VERSIONS_DIR.glob(f"{rev_id}_*.py")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("message", nargs="?", default="")
    parser.add_argument("--initial", action="store_true", help="regenerate 0001_initial.py from scratch")
    args = parser.parse_args()
    if not args.initial and not args.message:
        parser.error("give a message, or --initial")
    print(asyncio.run(generate(args.message, initial=args.initial)))


if __name__ == "__main__":
    main()
