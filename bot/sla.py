"""Deadlines: working-hours arithmetic, due times at filing, escalation and the daily digest.

Defaults follow Hanoi's iHanoi rules: acknowledge within 8 working hours; urgent cases are
handled within 4 (calendar) hours and acknowledged within a quarter of that. Working hours are
Mon–Fri 07:30–11:30 and 13:00–17:00 in `settings.timezone`, minus Vietnamese public holidays
(the `holidays` package). The sweeps are idempotent, so several workers may run them at once:
escalation is guarded by the case version, digests by their outbox dedupe key.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import select

from bot.config import Settings
from bot.errors import Conflict, InvalidInput
from bot.outbox.enqueue import add_delivery
from bot.outbox.notices import OFFICIAL_KIND, citizen_hook, digest_message, officials_hook
from bot.store.models import Delivery
from bot.store.officials import OfficialInfo, jurisdiction_of

if TYPE_CHECKING:
    from bot.context import AppContext
    from bot.store import Store
    from bot.store.views import CaseInfo

log = logging.getLogger(__name__)

WORKING_PERIODS: tuple[tuple[time, time], ...] = ((time(7, 30), time(11, 30)), (time(13, 0), time(17, 0)))
DIGEST_AT = time(7, 30)
ESCALATION_ROLES = ("admin", "official")
DIGEST_ROLES = ("admin", "official", "front")
_MAX_DAYS = 3660


class WorkingCalendar:
    """Working time in one timezone: which instants count and how to add working hours."""

    def __init__(self, tz: str = "Asia/Ho_Chi_Minh", periods: Sequence[tuple[time, time]] = WORKING_PERIODS,
                 country: str = "VN") -> None:
        self.tz = ZoneInfo(tz)
        self.periods = tuple(periods)
        self._country = country
        self._holidays: dict[int, set[date]] = {}

    def is_working_day(self, day: date) -> bool:
        if day.weekday() >= 5:
            return False
        if day.year not in self._holidays:
            self._holidays[day.year] = set(holidays.country_holidays(self._country, years=day.year))
        return day not in self._holidays[day.year]

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The instant `hours` working hours after `start` (timezone-aware, returned in UTC)."""
        remaining = timedelta(hours=hours)
        cursor = start.astimezone(self.tz)
        for _ in range(_MAX_DAYS):
            day = cursor.date()
            if self.is_working_day(day):
                for begin_t, end_t in self.periods:
                    begin = datetime.combine(day, begin_t, self.tz)
                    end = datetime.combine(day, end_t, self.tz)
                    if cursor >= end:
                        continue
                    begin = max(begin, cursor)
                    if remaining <= end - begin:
                        return (begin + remaining).astimezone(start.tzinfo)
                    remaining -= end - begin
                    cursor = end
            cursor = datetime.combine(day + timedelta(days=1), time(0, 0), self.tz)
        raise ValueError("deadline beyond ten years")


def calendar_for(settings: Settings) -> WorkingCalendar:
    return WorkingCalendar(settings.timezone)


def due_times(settings: Settings, now: datetime, category: str, priority: str = "normal",
              calendar: WorkingCalendar | None = None) -> tuple[datetime, datetime]:
    """(acknowledge by, resolve by) for a case filed at `now`."""
    if priority == "urgent":
        hours = settings.sla_urgent_hours
        return now + timedelta(hours=hours / 4), now + timedelta(hours=hours)
    cal = calendar or calendar_for(settings)
    resolve_hours = settings.sla_category_resolve_hours.get(category, settings.sla_resolve_working_hours)
    return cal.add_working_hours(now, settings.sla_ack_working_hours), cal.add_working_hours(now, resolve_hours)


# --- escalation -----------------------------------------------------------------------------


async def escalation_targets(store: Store, case: CaseInfo) -> list[OfficialInfo]:
    """Officials of the case's parent area (a commune's province) who cover its category;
    for a case filed at province level or without an area, admins without area limits."""
    area = await store.areas.get(case.area_id) if case.area_id is not None else None
    parent = await store.areas.get(area.parent_id) if area is not None and area.parent_id else None
    targets = []
    for official in await store.officials.list():
        if official.role not in ESCALATION_ROLES:
            continue
        if official.categories and case.category not in official.categories:
            continue
        if parent is not None and parent.code in official.area_codes:
            targets.append(official)
        elif parent is None and not official.area_codes and official.role == "admin":
            targets.append(official)
    return targets


async def escalate_overdue(ctx: AppContext, now: datetime | None = None) -> int:
    """Escalate every overdue, not yet escalated case once. Returns how many were escalated."""
    store, now = ctx.store, now or ctx.clock.now()
    escalated = 0
    for case in await store.cases.overdue_unescalated(now):
        targets = await escalation_targets(store, case)
        change = await store.cases.mark_escalated(case.id, expected_version=case.version,
                                                  hooks=[officials_hook(ctx.i18n, targets)])
        if change is not None:
            escalated += 1
            log.info("case escalated code=%s targets=%d", case.code, len(targets))
    return escalated


async def close_unanswered(ctx: AppContext, now: datetime | None = None) -> int:
    """Close resolved cases whose citizen has not answered "fixed?" for `auto_close_resolved_days`
    (telling them); "not fixed" stays possible until then. Returns how many were closed."""
    days = ctx.settings.auto_close_resolved_days
    if days <= 0:
        return 0
    store, now = ctx.store, now or ctx.clock.now()
    closed = 0
    for case in await store.cases.resolved_before(now - timedelta(days=days)):
        try:
            await store.cases.auto_close(case.id, expected_version=case.version,
                                         hooks=[citizen_hook(ctx.i18n)])
        except (Conflict, InvalidInput):  # the citizen or an official got there first
            continue
        closed += 1
        log.info("case auto-closed code=%s", case.code)
    return closed


# --- daily digest ---------------------------------------------------------------------------


async def send_digests(ctx: AppContext, now: datetime | None = None, *, top: int = 5) -> int:
    """Queue today's digest for each official with open cases, once a day after 07:30 local
    time on working days. Returns how many were queued (re-runs the same day queue none)."""
    store, now = ctx.store, now or ctx.clock.now()
    cal = calendar_for(ctx.settings)
    local = now.astimezone(cal.tz)
    if not cal.is_working_day(local.date()) or local.time() < DIGEST_AT:
        return 0
    queued = 0
    for official in await store.officials.list():
        if official.role not in DIGEST_ROLES:
            continue
        key = f"digest:{official.id}:{local.date().isoformat()}"
        async with store.officials.read() as s:
            if await s.scalar(select(Delivery.id).where(Delivery.dedupe_key == key)) is not None:
                continue
        where = await jurisdiction_of(store.areas, official)
        area_ids = None if where.area_ids is None else sorted(where.area_ids)
        categories = None if where.categories is None else sorted(where.categories)
        open_count, overdue_count = await store.cases.open_counts(now=now, area_ids=area_ids,
                                                                  categories=categories)
        if open_count == 0:
            continue
        overdue, _ = await store.cases.inbox(now=now, area_ids=area_ids, categories=categories,
                                             overdue_only=True, limit=top)
        async with store.officials.session() as s:
            add_delivery(s, kind=OFFICIAL_KIND, now=now, official_id=official.id, channel=official.channel,
                         channel_user_id=official.channel_user_id, dedupe_key=key,
                         messages=digest_message(ctx.i18n, official, open_count=open_count,
                                                 overdue_count=overdue_count, overdue=overdue))
        queued += 1
    return queued
