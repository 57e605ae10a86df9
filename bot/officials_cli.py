"""`tiengdan officials add|list|remove`: bootstrap the first officials from the command line.

Identity is the channel's numeric user id (Telegram user id, Zalo user id), never a username.
Every change is written to the audit log as done from the CLI.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer

from bot.clock import SystemClock
from bot.config import Settings
from bot.i18n import Catalogs
from bot.store import Store
from bot.store.officials import ROLES, OfficialInfo

T = TypeVar("T")

app = typer.Typer(help="Officials: who may work cases, with which role and where.", no_args_is_help=True)

CATEGORIES = (
    "traffic_roads", "environment_waste", "flooding_drainage", "utilities_power_water", "public_order",
    "land_construction", "health", "education", "admin_procedures", "agriculture_irrigation", "other",
)


def _settings(ctx: typer.Context) -> Settings:
    root = ctx.find_root()
    return root.obj if isinstance(root.obj, Settings) else Settings()


def _t(settings: Settings) -> Callable[..., str]:
    catalogs = Catalogs(default_locale=settings.default_locale, timezone=settings.timezone)
    return lambda key, **params: catalogs.t(settings.default_locale, key, **params)


def _with_store(settings: Settings, work: Callable[[Store], Awaitable[T]]) -> T:
    async def run() -> T:
        from bot.bootstrap import ensure_areas, open_store

        store = await open_store(settings, SystemClock())
        try:
            await ensure_areas(store)
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(run())


def _line(t: Callable[..., str], o: OfficialInfo) -> str:
    return t("off.cli_line", id=o.id, channel=o.channel, user_id=o.channel_user_id, role=o.role, unit=o.unit,
             areas=",".join(o.area_codes) or "*", categories=",".join(o.categories) or "*",
             active="" if o.active else t("off.cli_inactive"))


@app.command("add")
def add(ctx: typer.Context,
        channel: str = typer.Option(..., "--channel", help="telegram, zalo, web or console."),
        user_id: str = typer.Option(..., "--user-id", help="The numeric channel user id (not a username)."),
        role: str = typer.Option("official", "--role", help="admin, official, front or moderator."),
        unit: str = typer.Option(..., "--unit", help="The unit the official acts for."),
        area: list[str] = typer.Option([], "--area", help="Area code (repeat); none = everywhere."),
        category: list[str] = typer.Option([], "--category", help="Category (repeat); none = all."),
        name: str | None = typer.Option(None, "--name", help="Display name."),
        locale: str = typer.Option("vi", "--locale", help="vi or en.")) -> None:
    """Add an official (or update the one with this channel identity)."""
    settings = _settings(ctx)
    t = _t(settings)
    if role not in ROLES:
        raise typer.BadParameter(t("off.cli_bad_role", roles=", ".join(ROLES)), param_hint="--role")
    bad = [c for c in category if c not in CATEGORIES]
    if bad:
        raise typer.BadParameter(t("off.cli_bad_category", value=", ".join(bad)), param_hint="--category")
    if locale not in ("vi", "en"):
        raise typer.BadParameter("vi | en", param_hint="--locale")
    if channel in ("telegram", "zalo") and not user_id.lstrip("-").isdigit():
        raise typer.BadParameter(t("off.cli_bad_user_id"), param_hint="--user-id")

    async def work(store: Store) -> OfficialInfo | list[str]:
        unknown = [code for code in area if await store.areas.by_code(code) is None]
        if unknown:
            return unknown
        official = await store.officials.add(channel=channel, channel_user_id=user_id, role=role, unit=unit,
                                             area_codes=area, categories=category, display_name=name,
                                             locale=locale)
        await store.audit.record(official_id=None, channel="cli", channel_user_id=None, action="officials.add",
                                 target=f"{channel}:{user_id}", allowed=True,
                                 detail={"role": role, "unit": unit, "areas": area, "categories": category})
        return official

    result = _with_store(settings, work)
    if isinstance(result, list):
        typer.echo(t("off.cli_unknown_area", codes=", ".join(result)), err=True)
        raise typer.Exit(2)
    typer.echo(t("off.cli_added") + "\n" + _line(t, result))


@app.command("list")
def list_(ctx: typer.Context,
          all_: bool = typer.Option(False, "--all", help="Include removed officials.")) -> None:
    """List officials."""
    settings = _settings(ctx)
    t = _t(settings)

    async def work(store: Store) -> list[OfficialInfo]:
        return await store.officials.list(active_only=not all_)

    officials = _with_store(settings, work)
    if not officials:
        typer.echo(t("off.cli_none"))
        return
    for official in officials:
        typer.echo(_line(t, official))


@app.command("remove")
def remove(ctx: typer.Context,
           channel: str = typer.Option(..., "--channel"),
           user_id: str = typer.Option(..., "--user-id")) -> None:
    """Remove an official (deactivated: the audit log keeps their history)."""
    settings = _settings(ctx)
    t = _t(settings)

    async def work(store: Store) -> bool:
        removed = await store.officials.remove(channel, user_id)
        await store.audit.record(official_id=None, channel="cli", channel_user_id=None, action="officials.remove",
                                 target=f"{channel}:{user_id}", allowed=removed)
        return removed

    if not _with_store(settings, work):
        typer.echo(t("off.cli_not_found", channel=channel, user_id=user_id), err=True)
        raise typer.Exit(1)
    typer.echo(t("off.cli_removed", channel=channel, user_id=user_id))
