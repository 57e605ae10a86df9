"""Read-only queries behind the public interfaces: the dashboard, open data and Open311.

Everything here reads; nothing writes. Filters arrive as a `CaseFilter`; large exports page
through cases by id (`iter_cases`) so memory stays flat however many cases there are.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, select, true
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Select

from bot.store.base import Repo
from bot.store.caseflow import OPEN_STATUSES
from bot.store.models import Area, Attachment, Case, CaseEvent
from bot.store.views import CaseInfo

RESOLVED_STATUSES = ("resolved", "closed")
NOTE_KINDS = ("reply", "status")  # public events whose text tells the public what happened


@dataclass(frozen=True, slots=True)
class CaseFilter:
    """Which cases a public query covers; None means "no limit on this field"."""

    since: datetime | None = None
    until: datetime | None = None
    statuses: Collection[str] | None = None
    categories: Collection[str] | None = None
    area_ids: Collection[int] | None = None
    codes: Collection[str] | None = None

    def clause(self) -> ColumnElement[bool]:
        conditions: list[ColumnElement[bool]] = []
        # UTC before comparing: SQLite compares the stored text, so offsets must match
        if self.since is not None:
            conditions.append(Case.created_at >= self.since.astimezone(UTC))
        if self.until is not None:
            conditions.append(Case.created_at <= self.until.astimezone(UTC))
        if self.statuses is not None:
            conditions.append(Case.status.in_(list(self.statuses)))
        if self.categories is not None:
            conditions.append(Case.category.in_(list(self.categories)))
        if self.area_ids is not None:
            conditions.append(Case.area_id.in_(list(self.area_ids)))
        if self.codes is not None:
            conditions.append(Case.code.in_(list(self.codes)))
        return and_(true(), *conditions)


@dataclass(frozen=True, slots=True)
class ProvinceRow:
    province_id: int | None  # None: cases filed without an area
    total: int
    open: int
    resolved: int
    on_time: int


@dataclass(frozen=True, slots=True)
class DayCount:
    day: date
    filed: int
    resolved: int


@dataclass(frozen=True, slots=True)
class Deadlines:
    """Resolved cases that had a deadline, and how many of them met it."""

    resolved_with_deadline: int
    on_time: int

    @property
    def share(self) -> float | None:
        return self.on_time / self.resolved_with_deadline if self.resolved_with_deadline else None


@dataclass(frozen=True, slots=True)
class Trend:
    days: list[DayCount] = field(default_factory=list)


def _with_area() -> Select[Case, str]:
    return select(Case, Area.name).outerjoin(Area, Case.area_id == Area.id)


def _on_time() -> ColumnElement[bool]:
    return and_(Case.resolved_at.is_not(None), Case.due_at.is_not(None), Case.resolved_at <= Case.due_at)


async def find_cases(repo: Repo, flt: CaseFilter, *, limit: int) -> list[CaseInfo]:
    """Matching cases, newest first, at most `limit`."""
    query = _with_area().where(flt.clause()).order_by(Case.created_at.desc(), Case.id.desc()).limit(limit)
    async with repo.read() as s:
        return [CaseInfo.of(c, name) for c, name in (await s.execute(query)).all()]


async def iter_cases(repo: Repo, flt: CaseFilter, *, batch: int = 500) -> AsyncIterator[CaseInfo]:
    """Every matching case, oldest id first, read `batch` rows per short transaction."""
    after = 0
    while True:
        query = _with_area().where(flt.clause(), Case.id > after).order_by(Case.id).limit(batch)
        async with repo.read() as s:
            rows = (await s.execute(query)).all()
        for c, name in rows:
            yield CaseInfo.of(c, name)
        if len(rows) < batch:
            return
        after = rows[-1][0].id


async def latest_notes(repo: Repo, case_ids: Iterable[int]) -> dict[int, str]:
    """The latest public reply or status note of each case (cases without one are absent)."""
    ids = list(case_ids)
    if not ids:
        return {}
    query = (
        select(CaseEvent.case_id, CaseEvent.body)
        .where(CaseEvent.case_id.in_(ids), CaseEvent.public.is_(True), CaseEvent.kind.in_(NOTE_KINDS),
               CaseEvent.body.is_not(None))
        .order_by(CaseEvent.case_id, CaseEvent.created_at, CaseEvent.id)
    )
    async with repo.read() as s:
        return {case_id: body for case_id, body in (await s.execute(query)).all() if body}


async def first_photos(repo: Repo, case_ids: Iterable[int]) -> dict[int, str]:
    """The sha256 of the first stored photo of each case (remote-only media are skipped)."""
    ids = list(case_ids)
    if not ids:
        return {}
    query = (
        select(Attachment.case_id, Attachment.sha256)
        .where(Attachment.case_id.in_(ids), Attachment.kind == "photo", Attachment.sha256.is_not(None))
        .order_by(Attachment.case_id, Attachment.id)
    )
    photos: dict[int, str] = {}
    async with repo.read() as s:
        for case_id, sha in (await s.execute(query)).all():
            if case_id is not None and sha:
                photos.setdefault(case_id, sha)
    return photos


async def merged_codes(repo: Repo, case_ids: Iterable[int]) -> dict[int, str]:
    """For duplicates: the code of the case each was merged into."""
    ids = list(case_ids)
    if not ids:
        return {}
    into = aliased(Case)
    query = select(Case.id, into.code).join(into, Case.merged_into_id == into.id).where(Case.id.in_(ids))
    async with repo.read() as s:
        return {case_id: code for case_id, code in (await s.execute(query)).all()}


async def deadlines(repo: Repo, flt: CaseFilter) -> Deadlines:
    query = select(func.count(), func.sum(case((_on_time(), 1), else_=0))).select_from(Case).where(
        flt.clause(), Case.resolved_at.is_not(None), Case.due_at.is_not(None))
    async with repo.read() as s:
        total, on_time = (await s.execute(query)).one()
    return Deadlines(resolved_with_deadline=int(total or 0), on_time=int(on_time or 0))


async def by_province(repo: Repo, flt: CaseFilter) -> list[ProvinceRow]:
    """Counts per province (a commune's case counts for its province), biggest first."""
    province = func.coalesce(Area.parent_id, Area.id)
    query = (
        select(
            province,
            func.count(),
            func.sum(case((Case.status.in_(OPEN_STATUSES), 1), else_=0)),
            func.sum(case((Case.status.in_(RESOLVED_STATUSES), 1), else_=0)),
            func.sum(case((_on_time(), 1), else_=0)),
        )
        .select_from(Case)
        .outerjoin(Area, Case.area_id == Area.id)
        .where(flt.clause())
        .group_by(province)
    )
    async with repo.read() as s:
        rows = (await s.execute(query)).all()
    out = [ProvinceRow(province_id=None if p is None else int(p), total=int(n or 0), open=int(o or 0),
                       resolved=int(r or 0), on_time=int(t or 0)) for p, n, o, r, t in rows]
    return sorted(out, key=lambda row: (-row.total, row.province_id is None, row.province_id or 0))


async def trend(repo: Repo, flt: CaseFilter, *, now: datetime, days: int, tz: str) -> Trend:
    """Cases filed and resolved per local calendar day, for the `days` days ending today."""
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, datetime.min.time(), zone).astimezone(UTC)
    area_only = CaseFilter(categories=flt.categories, area_ids=flt.area_ids, statuses=flt.statuses)
    filed_q = select(Case.created_at).where(area_only.clause(), Case.created_at >= start)
    resolved_q = select(Case.resolved_at).where(area_only.clause(), Case.resolved_at >= start)
    filed: dict[date, int] = {}
    resolved: dict[date, int] = {}
    async with repo.read() as s:
        for (created,) in await s.execute(filed_q):
            day = created.astimezone(zone).date()
            filed[day] = filed.get(day, 0) + 1
        for (done,) in await s.execute(resolved_q):
            if done is not None:
                day = done.astimezone(zone).date()
                resolved[day] = resolved.get(day, 0) + 1
    span = [first + timedelta(days=i) for i in range(days)]
    return Trend(days=[DayCount(day=d, filed=filed.get(d, 0), resolved=resolved.get(d, 0)) for d in span])
