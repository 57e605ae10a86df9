"""`tiengdan`: the command line (Typer), a composition root like `bot/server.py`.

Feature commands live in their own Typer sub-apps; adding one is one line in `SUBAPPS`.
Sub-apps that are not present yet are skipped. Settings are read once here and handed to
sub-apps as `ctx.obj`.
"""

from __future__ import annotations

import asyncio
import csv
import importlib
import json
import logging
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, TextIO, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select

from bot.config import Settings
from bot.context import AppContext
from bot.i18n import Catalogs
from bot.opendata import PUBLIC_FIELDS, public_row, redact

log = logging.getLogger(__name__)
T = TypeVar("T")

# Feature commands, mounted when their module exists: (command name, "module:attribute").
# A Typer app becomes a command group; a plain function becomes a single command.
SUBAPPS: list[tuple[str, str]] = [
    ("nlu", "nlu.cli:app"),
    ("telegram", "integrations.telegram.cli:app"),
    ("zalo", "integrations.zalo.cli:app"),
    ("officials", "bot.officials_cli:app"),
    ("worker", "bot.outbox.cli:worker"),
    ("broadcast", "bot.participation_cli:broadcast_app"),
    ("consult", "bot.participation_cli:consult_app"),
    ("analyze", "bot.participation_cli:analyze_app"),
]

app = typer.Typer(name="tiengdan", no_args_is_help=True, add_completion=False,
                  help="Tiếng Dân: citizen participation chatbot.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
cases_app = typer.Typer(no_args_is_help=True, help="Citizen reports.")
app.add_typer(db_app, name="db")
app.add_typer(cases_app, name="cases")

console = Console()
EXPORT_FIELDS = (*PUBLIC_FIELDS, "reporter")


# --- plumbing -------------------------------------------------------------------------------


def _settings(ctx: typer.Context) -> Settings:
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        root.obj = Settings()
    return root.obj


def _text(settings: Settings) -> Callable[..., str]:
    catalogs = Catalogs(default_locale=settings.default_locale, timezone=settings.timezone)

    def t(key: str, /, **params: Any) -> str:
        return catalogs.t(settings.default_locale, key, **params)

    return t


def _run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@contextmanager
def _progress() -> Iterator[Progress]:
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as progress:
        yield progress


@asynccontextmanager
async def _context(settings: Settings, *, with_nlu: bool = False, load_areas: bool = True,
                   ) -> AsyncIterator[AppContext]:
    """The application context with a progress bar while areas load on first use."""
    from bot.bootstrap import build_context, close_context

    t = _text(settings)
    with _progress() as progress:
        task = progress.add_task(t("web.cli.areas_loading"), total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        ctx = await build_context(settings, with_nlu=with_nlu, load_areas=load_areas, area_progress=advance)
    try:
        yield ctx
    finally:
        await close_context(ctx)


def _mount_subapps(root: typer.Typer, specs: list[tuple[str, str]]) -> list[str]:
    mounted = []
    for name, spec in specs:
        module_name, _, attr = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
                continue
            log.warning("sub-command %s unavailable: %s", name, exc)
            continue
        except ImportError as exc:
            log.warning("sub-command %s unavailable: %s", name, exc)
            continue
        sub = getattr(module, attr, None)
        if isinstance(sub, typer.Typer):
            root.add_typer(sub, name=name)
        elif callable(sub):
            root.command(name)(sub)
        else:
            log.warning("sub-command %s: %s has no %s", name, module_name, attr)
            continue
        mounted.append(name)
    return mounted


@app.callback()
def main_callback(ctx: typer.Context,
                  verbose: bool = typer.Option(False, "--verbose", "-v", help="Log at INFO level.")) -> None:
    """Read settings once; sub-commands find them in ctx.obj."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    ctx.obj = Settings()


# --- serve / chat / db / demo ---------------------------------------------------------------


@app.command()
def serve(ctx: typer.Context,
          telegram_polling: bool = typer.Option(False, "--telegram-polling",
                                                help="Receive Telegram by long polling (no webhook).")) -> None:
    """Run the HTTP server (web chat, webhooks, /healthz, /metrics) and background workers."""
    from bot.server import run

    settings = _settings(ctx)
    t = _text(settings)
    if telegram_polling and not settings.channel_enabled("telegram"):
        console.print(t("web.cli.telegram_off"))
        raise typer.Exit(2)
    console.print(t("web.cli.serving", host=settings.host, port=settings.port))
    run(settings, telegram_polling=telegram_polling)


@app.command()
def chat(ctx: typer.Context,
         user: str | None = typer.Option(None, "--user", help="Console user id (default console-1)."),
         as_official: bool = typer.Option(False, "--as-official",
                                          help="Chat as an official (user id official-1 by default).")) -> None:
    """Chat with the bot in the terminal as a citizen or an official."""
    settings = _settings(ctx)
    user_id = user or ("official-1" if as_official else "console-1")
    _run(_chat(settings, user_id, as_official, sys.stdin, sys.stdout))


async def _chat(settings: Settings, user_id: str, official: bool, stdin: TextIO, out: TextIO) -> None:
    from bot.bootstrap import build_engine
    from integrations.console import run_chat

    async with _context(settings, with_nlu=True) as ctx:
        await run_chat(ctx, build_engine(ctx), user_id=user_id, stdin=stdin, out=out, official=official)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context,
               areas: bool = typer.Option(True, "--areas/--no-areas", help="Load areas when the table is empty.")
               ) -> None:
    """Bring the schema to the newest migration (Alembic) and load areas on first run."""
    settings = _settings(ctx)
    t = _text(settings)
    revision = _run(_db_upgrade(settings, areas))
    console.print(t("web.cli.db_upgraded", revision=revision or "-"))


async def _db_upgrade(settings: Settings, areas: bool) -> str | None:
    from bot.store.migrate import current_revision, upgrade

    await upgrade(settings.database_url)
    if areas:
        async with _context(settings, load_areas=True):
            pass
    return await current_revision(settings.database_url)


@app.command()
def demo(ctx: typer.Context) -> None:
    """Load demo data: areas, reports in Huế and Hà Nội, and each feature's demo loader."""
    settings = _settings(ctx)
    t = _text(settings)
    summaries = _run(_demo(settings, t))
    console.print(t("web.cli.demo_done", summary="; ".join(f"{k}: {v}" for k, v in summaries.items())))


async def _demo(settings: Settings, t: Callable[..., str]) -> dict[str, str]:
    from bot import demo as demo_data

    async with _context(settings) as ctx:
        steps = demo_data.steps()
        summaries: dict[str, str] = {}
        with _progress() as progress:
            task = progress.add_task(t("web.cli.demo_step", name=""), total=len(steps))
            for step in steps:
                progress.update(task, description=t("web.cli.demo_step", name=step.name))
                summaries[step.name] = await step.loader(ctx)
                progress.advance(task)
        return summaries


# --- cases ----------------------------------------------------------------------------------


async def _case_rows(ctx: AppContext, *, status: str | None, limit: int | None) -> list[dict[str, Any]]:
    """Cases, newest first, with area/province names and the reporter's name (never ids/phones)."""
    from sqlalchemy.orm import aliased

    from bot.store.models import Area, Case, Citizen

    province = aliased(Area)
    query = (
        select(Case, Area.code, Area.name, province.name, Citizen.display_name)
        .outerjoin(Area, Case.area_id == Area.id)
        .outerjoin(province, Area.parent_id == province.id)
        .join(Citizen, Case.citizen_id == Citizen.id)
        .order_by(Case.created_at.desc(), Case.id.desc())
    )
    if status is not None:
        query = query.where(Case.status == status)
    if limit is not None:
        query = query.limit(limit)
    async with ctx.store.cases.read() as s:
        rows = (await s.execute(query)).all()
    return [_public_row(case, area_code, area, prov, name) for case, area_code, area, prov, name in rows]


def _public_row(case: Any, area_code: str | None, area: str | None, province: str | None,
                reporter: str | None) -> dict[str, Any]:
    row = public_row(case, area_code=area_code, area=area, province=province)
    row["reporter"] = None if row["anonymous"] else reporter  # operators see who; the public never does
    return row


def _check_status(status: str | None, t: Callable[..., str]) -> None:
    from bot.store.cases import STATUSES

    if status is not None and status not in STATUSES:
        console.print(t("web.cli.bad_status", status=status, choices=", ".join(STATUSES)))
        raise typer.Exit(2)


@cases_app.command("list")
def cases_list(ctx: typer.Context,
               status: str | None = typer.Option(None, "--status", help="Only this status."),
               limit: int = typer.Option(20, "--limit", min=1, max=10_000)) -> None:
    """The newest reports as a table."""
    settings = _settings(ctx)
    t = _text(settings)
    _check_status(status, t)
    rows = _run(_list_rows(settings, status, limit))
    if not rows:
        console.print(t("web.cli.no_cases"))
        return
    table = Table(title=t("web.cli.cases_title", count=len(rows)))
    for key in ("code", "status", "priority", "category", "area", "created"):
        table.add_column(t(f"web.cli.col.{key}"))
    for row in rows:
        table.add_row(row["code"], row["status"], row["priority"], row["category"],
                      ", ".join(p for p in (row["area"], row["province"]) if p),
                      (row["created_at"] or "")[:16].replace("T", " "))
    console.print(table)


async def _list_rows(settings: Settings, status: str | None, limit: int | None) -> list[dict[str, Any]]:
    async with _context(settings, load_areas=False) as ctx:
        return await _case_rows(ctx, status=status, limit=limit)


@cases_app.command("show")
def cases_show(ctx: typer.Context, code: str = typer.Argument(..., help="Case code, e.g. 1234 5678.")) -> None:
    """One report with its attachments and public timeline."""
    settings = _settings(ctx)
    t = _text(settings)
    found = _run(_show(settings, code))
    if found is None:
        console.print(t("web.cli.case_not_found", code=code))
        raise typer.Exit(1)
    info, attachments, events, reporter = found
    console.print(f"[bold]{info.display_code}[/bold]  {info.status}  {info.priority}  {info.category}")
    console.print(f"{t('web.cli.col.area')}: {info.area_name or '-'}")
    if info.lat is not None and info.lon is not None:
        console.print(f"{t('web.cli.show.location')}: {info.lat:.5f}, {info.lon:.5f}")
    console.print(f"{t('web.cli.show.citizen')}: "
                  f"{t('web.cli.show.anonymous') if info.anonymous else (reporter or '-')}")
    console.print(f"{t('web.cli.show.description')}: {redact(info.description) or '-'}")
    console.print(f"{t('web.cli.show.attachments')}: {len(attachments)}")
    for a in attachments:
        console.print(f"  - {a.kind} {a.mime or ''} {a.size or 0} B {a.sha256 or a.note or ''}")
    console.print(f"{t('web.cli.show.timeline')}:")
    for e in events:
        change = f"{e.from_status or ''}→{e.to_status}" if e.to_status else ""
        console.print(f"  {e.created_at.isoformat(timespec='minutes')} {e.kind} {change} {e.body or ''}")


async def _show(settings: Settings, code: str) -> tuple[Any, list[Any], list[Any], str | None] | None:
    async with _context(settings, load_areas=False) as ctx:
        info = await ctx.store.cases.get_by_code(code)
        if info is None:
            return None
        citizen = await ctx.store.citizens.get(info.citizen_id)
        return (info, await ctx.store.cases.attachments(info.id), await ctx.store.cases.timeline(info.id),
                citizen.display_name if citizen else None)


@cases_app.command("export")
def cases_export(ctx: typer.Context,
                 fmt: str = typer.Option("json", "--format", help="json or csv."),
                 out: Path | None = typer.Option(None, "--out", help="File to write (default: stdout)."),
                 status: str | None = typer.Option(None, "--status", help="Only this status.")) -> None:
    """All reports, PII-redacted: no citizen ids or phones; anonymous reports without names."""
    settings = _settings(ctx)
    t = _text(settings)
    if fmt not in ("json", "csv"):
        console.print(t("web.cli.bad_format", format=fmt))
        raise typer.Exit(2)
    _check_status(status, t)
    rows = _run(_list_rows(settings, status, None))
    if out is None:
        _write(rows, fmt, sys.stdout)
        return
    with _progress() as progress:
        task = progress.add_task(str(out), total=len(rows))
        with out.open("w", encoding="utf-8", newline="") as fh:
            _write(rows, fmt, fh, on_row=lambda: progress.advance(task))
    Console(stderr=True).print(t("web.cli.exported", count=len(rows), path=out))


def _write(rows: list[dict[str, Any]], fmt: str, fh: TextIO, on_row: Callable[[], None] | None = None) -> None:
    if fmt == "json":
        fh.write("[\n")
        for i, row in enumerate(rows):
            fh.write(("," if i else "") + json.dumps(row, ensure_ascii=False) + "\n")
            if on_row:
                on_row()
        fh.write("]\n")
        return
    writer = csv.DictWriter(fh, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
        if on_row:
            on_row()


# --- entry point ----------------------------------------------------------------------------

_mount_subapps(app, SUBAPPS)


def main() -> None:
    """Console script `tiengdan`."""
    app()


if __name__ == "__main__":
    main()
