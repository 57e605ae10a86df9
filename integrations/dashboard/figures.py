"""The dashboard's figures, computed once and shown as HTML (`/dashboard`) or JSON (`/api/stats.json`)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.context import AppContext
from bot.store import publicstats
from bot.store.cases import STATUSES
from bot.store.views import AreaInfo

DEFAULT_DAYS = 90
MAX_DAYS = 3660
TREND_DAYS = 30


class BadQuery(Exception):
    """A query parameter we refuse: a catalog key and its placeholders."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True, slots=True)
class Scope:
    """Which cases the figures cover: the last `days` days, in `area` (None: everywhere)."""

    days: int
    area: AreaInfo | None
    area_ids: frozenset[int] | None


async def parse_scope(ctx: AppContext, query: Mapping[str, str]) -> Scope:
    raw_days = query.get("days", "").strip()
    days = DEFAULT_DAYS
    if raw_days:
        if not re.fullmatch(r"[0-9]{1,5}", raw_days) or not 1 <= int(raw_days) <= MAX_DAYS:
            raise BadQuery("dash.error.days", max=MAX_DAYS)
        days = int(raw_days)
    area, area_ids = await parse_area(ctx, query.get("area"))
    return Scope(days=days, area=area, area_ids=area_ids)


async def parse_area(ctx: AppContext, raw: str | None) -> tuple[AreaInfo | None, frozenset[int] | None]:
    """An area code → the area and the ids it covers (a province includes its communes)."""
    code = (raw or "").strip()
    if not code:
        return None, None
    area = await ctx.store.areas.by_code(code[:16])
    if area is None:
        raise BadQuery("dash.error.area", code=code[:16])
    return area, frozenset(await ctx.store.areas.descendants_ids(area.id))


def _hours(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


async def compute(ctx: AppContext, scope: Scope, categories: Sequence[str]) -> dict[str, Any]:
    """Every figure of the dashboard as plain JSON-ready data."""
    now = ctx.clock.now()
    since = now - timedelta(days=scope.days)
    repo = ctx.store.cases
    flt = publicstats.CaseFilter(since=since, area_ids=scope.area_ids)
    stats = await repo.stats(now=now, since=since, area_ids=scope.area_ids)
    deadlines = await publicstats.deadlines(repo, flt)
    provinces = []
    for row in await publicstats.by_province(repo, flt):
        area = await ctx.store.areas.get(row.province_id) if row.province_id is not None else None
        provinces.append({"code": area.code if area else None, "name": area.name if area else None,
                          "total": row.total, "open": row.open, "resolved": row.resolved, "on_time": row.on_time})
    trend = await publicstats.trend(repo, publicstats.CaseFilter(area_ids=scope.area_ids), now=now,
                                    days=TREND_DAYS, tz=ctx.settings.timezone)
    by_category = {c: stats.by_category.get(c, 0) for c in categories}
    by_category.update({c: n for c, n in stats.by_category.items() if c not in by_category})
    share = deadlines.share
    return {
        "scope": {
            "days": scope.days,
            "since": since.isoformat(timespec="seconds"),
            "until": now.isoformat(timespec="seconds"),
            "area": {"code": scope.area.code, "name": scope.area.full_name} if scope.area else None,
        },
        "total": stats.total,
        "by_status": {s: stats.by_status.get(s, 0) for s in STATUSES},
        "by_category": by_category,
        "median_ack_hours": _hours(stats.median_ack_hours),
        "median_resolve_hours": _hours(stats.median_resolve_hours),
        "resolved_with_deadline": deadlines.resolved_with_deadline,
        "resolved_on_time": deadlines.on_time,
        "on_time_share": round(share, 3) if share is not None else None,
        "overdue": stats.overdue,
        "provinces": provinces,
        "trend": [{"date": d.day.isoformat(), "filed": d.filed, "resolved": d.resolved} for d in trend.days],
        "generated_at": now.isoformat(timespec="seconds"),
    }


def parse_since(raw: str | None, tz: Any) -> datetime | None:
    """An ISO 8601 date or date-time (naive ones are local time)."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace(" ", "+"))
    except ValueError:
        raise BadQuery("dash.error.since", value=text[:40]) from None
    if not 1970 <= value.year <= 2200:
        raise BadQuery("dash.error.since", value=text[:40])
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)
