"""Looking across cases: /inbox (paged, overdue first), /overdue, /stats (text + chart), /help."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.charts import Panel, bar_panels
from bot.messages import Media, Outbound
from bot.router import Router
from bot.store.caseflow import OPEN_STATUSES
from bot.store.officials import jurisdiction_of
from bot.turn import Turn
from dialogs.citizen.common import CATEGORIES, STATUSES, category_label, status_label
from dialogs.officials import cards
from dialogs.officials.auth import COMMANDS, Actor, actor, audit

router = Router("officials.overview")
PAGE_SIZE = 8
DEFAULT_STATS_DAYS = 30
MAX_STATS_DAYS = 3660


# --- filters -------------------------------------------------------------------------------


async def _scope(turn: Turn, who: Actor, command: str, area_code: str | None,
                 category: str | None) -> tuple[list[int] | None, list[str] | None] | None:
    """(area ids, categories) of the jurisdiction narrowed by the filters; None when refused."""
    area_ids = None if who.where.area_ids is None else sorted(who.where.area_ids)
    if area_code:
        area = await turn.store.areas.by_code(area_code)
        if area is None:
            turn.say("off.unknown_area", code=area_code[:16])
            return None
        wanted = await turn.store.areas.descendants_ids(area.id)
        if who.where.area_ids is not None:
            wanted &= who.where.area_ids
        if not wanted:
            await audit(turn, command, allowed=False, official=who.official, target=area_code, reason="jurisdiction")
            turn.say("off.area_out_of_reach", area=area.name)
            return None
        area_ids = sorted(wanted)
    categories = None if who.where.categories is None else sorted(who.where.categories)
    if category:
        if who.where.categories is not None and category not in who.where.categories:
            await audit(turn, command, allowed=False, official=who.official, target=category, reason="jurisdiction")
            turn.say("off.category_out_of_reach", category=category_label(turn, category))
            return None
        categories = [category]
    return area_ids, categories


def _inbox_filters(args: list[str]) -> dict[str, Any] | None:
    filters: dict[str, Any] = {}
    for arg in args:
        word = arg.lower()
        if word in STATUSES or word in ("open", "all", "overdue"):
            filters["status"] = word
        elif word in CATEGORIES:
            filters["category"] = word
        elif word.isdigit() and len(word) <= 6:
            filters["area"] = word
        else:
            return None
    return filters


# --- /inbox, /overdue ----------------------------------------------------------------------


@router.on_command("inbox")
async def inbox_command(turn: Turn) -> None:
    who = await actor(turn, "inbox")
    if who is None:
        return
    filters = _inbox_filters(turn.args)
    if filters is None:
        await audit(turn, "inbox", allowed=False, official=who.official, reason="bad_args")
        turn.say("off.usage_inbox")
        return
    turn.session.data["off_inbox"] = filters
    await show_inbox(turn, who, 0)


@router.on_command("overdue")
async def overdue_command(turn: Turn) -> None:
    who = await actor(turn, "overdue")
    if who is None:
        return
    turn.session.data["off_inbox"] = {"status": "overdue"}
    await show_inbox(turn, who, 0)


@router.on_payload("off:inbox:", anytime=True)
async def inbox_page(turn: Turn) -> None:
    who = await actor(turn, "inbox")
    if who is None:
        return
    page = int(turn.args[0]) if turn.args and turn.args[0].isdigit() else 0
    await show_inbox(turn, who, page)


async def show_inbox(turn: Turn, who: Actor, page: int) -> None:
    filters: dict[str, Any] = turn.session.data.get("off_inbox") or {}
    scope = await _scope(turn, who, "inbox", filters.get("area"), filters.get("category"))
    if scope is None:
        return
    area_ids, categories = scope
    status = filters.get("status", "open")
    statuses = None if status == "all" else OPEN_STATUSES if status in ("open", "overdue") else (status,)
    now = turn.clock.now()
    cases, total = await turn.store.cases.inbox(
        now=now, statuses=statuses, area_ids=area_ids, categories=categories,
        overdue_only=status == "overdue", limit=PAGE_SIZE, offset=page * PAGE_SIZE)
    await audit(turn, "inbox", allowed=True, official=who.official, page=page, **filters)
    turn.session.state = ""
    if total == 0:
        turn.say("off.inbox_empty_overdue" if status == "overdue" else "off.inbox_empty")
        return
    pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
    page = min(page, pages - 1)
    rows = [[cards.case_button(turn, c)] for c in cases]
    nav = []
    if page > 0:
        nav.append(turn.btn("off.btn_prev", f"off:inbox:{page - 1}"))
    if page + 1 < pages:
        nav.append(turn.btn("off.btn_next", f"off:inbox:{page + 1}"))
    if nav:
        rows.append(nav)
    key = "off.overdue_header" if status == "overdue" else "off.inbox_header"
    turn.ask(key, rows, total=total, page=page + 1, pages=pages, unit=who.official.unit)


# --- /stats --------------------------------------------------------------------------------


def _days(word: str) -> int | None:
    word = word.lower().removesuffix("ngày").removesuffix("d")
    return int(word) if word.isdigit() and 1 <= int(word) <= MAX_STATS_DAYS else None


def _stats_args(args: list[str]) -> tuple[str | None, int] | None:
    """`[area] [days]`: area codes have 2 (province) or 5 (commune) digits; `7d` is always days."""
    if not args:
        return None, DEFAULT_STATS_DAYS
    if len(args) == 1:
        arg = args[0]
        if arg.isdigit() and len(arg) in (2, 5):
            return arg, DEFAULT_STATS_DAYS
        days = _days(arg)
        return None if days is None else (None, days)
    if len(args) == 2 and args[0].isdigit():
        days = _days(args[1])
        return None if days is None else (args[0], days)
    return None


@router.on_command("stats")
async def stats_command(turn: Turn) -> None:
    who = await actor(turn, "stats")
    if who is None:
        return
    parsed = _stats_args(turn.args)
    if parsed is None:
        turn.say("off.usage_stats")
        return
    area_code, days = parsed
    scope = await _scope(turn, who, "stats", area_code, None)
    if scope is None:
        return
    area_ids, categories = scope
    now = turn.clock.now()
    stats = await turn.store.cases.stats(now=now, since=now - timedelta(days=days), area_ids=area_ids,
                                         categories=categories)
    await audit(turn, "stats", allowed=True, official=who.official, target=area_code, days=days)
    lines = [turn.t("off.stats_header", days=days, total=stats.total, overdue=stats.overdue)]
    for status, count in sorted(stats.by_status.items(), key=lambda kv: -kv[1]):
        lines.append(turn.t("off.stats_line", label=status_label(turn, status), count=count))
    lines.append(turn.t("off.stats_median_ack", hours=_hours(turn, stats.median_ack_hours)))
    lines.append(turn.t("off.stats_median_resolve", hours=_hours(turn, stats.median_resolve_hours)))
    turn.send(Outbound("\n".join(lines)))
    if stats.total:
        png = bar_panels([
            Panel(turn.t("off.chart_by_status"), [status_label(turn, s) for s in stats.by_status],
                  list(stats.by_status.values())),
            Panel(turn.t("off.chart_by_category"), [category_label(turn, c) for c in stats.by_category],
                  list(stats.by_category.values())),
        ], title=turn.t("off.chart_title", days=days))
        saved = await turn.store.media.save(Media("photo", data=png, mime="image/png", filename="stats.png"))
        turn.send(Outbound(turn.t("off.chart_caption", days=days), image=str(saved.path)))


def _hours(turn: Turn, value: float | None) -> str:
    return "—" if value is None else turn.ctx.i18n.number(round(value, 1), turn.locale)


# --- /help ---------------------------------------------------------------------------------


# "/help", "help", "trợ giúp" and "?" arrive as the escape payload "g:help". The prefix "g:help:"
# also matches that payload exactly and, being longer, wins over the citizen menu's route:
# officials get their command list, everyone else the citizen help, unchanged.
@router.on_payload("g:help:", anytime=True)
@router.on_command("help")
async def help_command(turn: Turn) -> None:
    official = await turn.store.officials.by_identity(turn.inbound.channel, turn.inbound.user_id)
    if official is None:
        from dialogs.citizen.menu import help_

        await help_(turn)
        return
    who = Actor(official, where=await jurisdiction_of(turn.store.areas, official))
    lines = [turn.t("off.help_header", role=turn.t(f"off.role_{official.role}"), unit=official.unit)]
    lines += [turn.t(f"off.help_{command}") for command in COMMANDS if who.may(command)]
    lines.append(turn.t("off.help_codes"))
    turn.send(Outbound("\n".join(lines)))

