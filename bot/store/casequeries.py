"""Reads officials need: the inbox (overdue first), overdue lists, and statistics.

Jurisdiction arrives as plain filters (`area_ids=None` means every area, `categories=None`
every category), so the same queries serve an official's chat, the CLI and the SLA sweeper.
"""

from __future__ import annotations

import statistics
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, or_, select, true
from sqlalchemy.sql import Select

from bot.store.base import Repo
from bot.store.caseflow import OPEN_STATUSES
from bot.store.models import Area, Case, Delivery
from bot.store.views import CaseInfo


@dataclass(frozen=True, slots=True)
class CaseStats:
    total: int
    by_status: dict[str, int] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)
    median_ack_hours: float | None = None
    median_resolve_hours: float | None = None
    overdue: int = 0


def _effective_due() -> ColumnElement[datetime]:
    """The deadline that matters now: acknowledgement while unacknowledged, else resolution."""
    return case(
        (Case.status.in_(("received", "reopened")), func.coalesce(Case.ack_due_at, Case.due_at)),
        else_=Case.due_at,
    )


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    return and_(Case.status.in_(OPEN_STATUSES), _effective_due() < now)


def is_overdue(info: CaseInfo, now: datetime) -> bool:
    """The same rule as `overdue_clause`, for one case in hand."""
    if info.status not in OPEN_STATUSES:
        return False
    due = (info.ack_due_at or info.due_at) if info.status in ("received", "reopened") else info.due_at
    return due is not None and due < now


def _filtered(
    query: Select[Case, str],
    *,
    statuses: Collection[str] | None,
    area_ids: Collection[int] | None,
    categories: Collection[str] | None,
) -> Select[Case, str]:
    if statuses is not None:
        query = query.where(Case.status.in_(list(statuses)))
    if area_ids is not None:
        query = query.where(Case.area_id.in_(list(area_ids)))
    if categories is not None:
        query = query.where(Case.category.in_(list(categories)))
    return query


class CaseQueries(Repo):
    """Mixed into `CaseRepo`: the official-side reads."""

    async def inbox(
        self,
        *,
        now: datetime,
        statuses: Collection[str] | None = OPEN_STATUSES,
        area_ids: Collection[int] | None = None,
        categories: Collection[str] | None = None,
        overdue_only: bool = False,
        limit: int = 10,
        offset: int = 0,
    ) -> tuple[list[CaseInfo], int]:
        """A page of matching cases, overdue first then by nearest deadline; and the total."""
        due = _effective_due()
        base = _filtered(select(Case, Area.name).outerjoin(Area, Case.area_id == Area.id),
                         statuses=statuses, area_ids=area_ids, categories=categories)
        if overdue_only:
            base = base.where(overdue_clause(now))
        query = base.order_by(due.is_(None), due, Case.created_at, Case.id).limit(limit).offset(offset)
        count = select(func.count()).select_from(base.with_only_columns(Case.id).subquery())
        async with self.read() as s:
            rows = (await s.execute(query)).all()
            total = int(await s.scalar(count) or 0)
        return [CaseInfo.of(c, name) for c, name in rows], total

    async def resolved_before(self, cutoff: datetime, limit: int = 200) -> list[CaseInfo]:
        """Resolved cases still waiting for the citizen's "fixed?" answer since before `cutoff`."""
        async with self.read() as s:
            rows = await s.execute(
                select(Case, Area.name).outerjoin(Area, Area.id == Case.area_id)
                .where(Case.status == "resolved", Case.resolved_at < cutoff)
                .order_by(Case.resolved_at).limit(limit))
            return [CaseInfo.of(case, area) for case, area in rows]

    async def undelivered_notices(self, citizen_id: int) -> int:
        """Updates for this citizen that could not reach them (Zalo window closed, bot blocked…),
        so the official knows to get in touch another way."""
        async with self.read() as s:
            count = await s.scalar(select(func.count(Delivery.id)).where(
                Delivery.citizen_id == citizen_id, Delivery.kind == "notification",
                Delivery.status.in_(("window_closed", "failed"))))
            return int(count or 0)

    async def overdue_unescalated(self, now: datetime, limit: int = 200) -> list[CaseInfo]:
        """Overdue open cases not escalated yet (the SLA sweeper's work list)."""
        query = (
            select(Case, Area.name).outerjoin(Area, Case.area_id == Area.id)
            .where(overdue_clause(now), Case.escalated_at.is_(None))
            .order_by(Case.id).limit(limit)
        )
        async with self.read() as s:
            return [CaseInfo.of(c, name) for c, name in (await s.execute(query)).all()]

    async def stats(
        self,
        *,
        now: datetime,
        since: datetime | None,
        area_ids: Collection[int] | None = None,
        categories: Collection[str] | None = None,
    ) -> CaseStats:
        """Counts by status and category, median hours to acknowledge and resolve, overdue."""
        conditions: list[ColumnElement[bool]] = []
        if since is not None:
            conditions.append(Case.created_at >= since)
        if area_ids is not None:
            conditions.append(Case.area_id.in_(list(area_ids)))
        if categories is not None:
            conditions.append(Case.category.in_(list(categories)))
        where = and_(true(), *conditions)
        async with self.read() as s:
            by_status = {k: int(v) for k, v in await s.execute(
                select(Case.status, func.count()).where(where).group_by(Case.status))}
            by_category = {k: int(v) for k, v in await s.execute(
                select(Case.category, func.count()).where(where).group_by(Case.category))}
            times = (await s.execute(
                select(Case.created_at, Case.acknowledged_at, Case.resolved_at).where(where)
                .where(or_(Case.acknowledged_at.is_not(None), Case.resolved_at.is_not(None)))
            )).all()
            overdue = int(await s.scalar(select(func.count()).select_from(Case).where(where, overdue_clause(now))) or 0)
        ack = [(a - c).total_seconds() / 3600 for c, a, _ in times if a is not None]
        res = [(r - c).total_seconds() / 3600 for c, _, r in times if r is not None]
        return CaseStats(
            total=sum(by_status.values()),
            by_status=by_status,
            by_category=by_category,
            median_ack_hours=statistics.median(ack) if ack else None,
            median_resolve_hours=statistics.median(res) if res else None,
            overdue=overdue,
        )

    async def open_counts(
        self, *, now: datetime, area_ids: Iterable[int] | None, categories: Iterable[str] | None,
    ) -> tuple[int, int]:
        """(open, overdue) for a jurisdiction: the daily digest's headline."""
        conditions: list[ColumnElement[bool]] = [Case.status.in_(OPEN_STATUSES)]
        if area_ids is not None:
            conditions.append(Case.area_id.in_(list(area_ids)))
        if categories is not None:
            conditions.append(Case.category.in_(list(categories)))
        async with self.read() as s:
            total = int(await s.scalar(select(func.count()).select_from(Case).where(*conditions)) or 0)
            late = int(await s.scalar(
                select(func.count()).select_from(Case).where(*conditions, overdue_clause(now))) or 0)
        return total, late
