"""Broadcasts and their bulk planning into the outbox (one Delivery row per recipient).

Planning never loads recipients into Python: each chunk is one `INSERT … SELECT` over the next
keyset page of citizen ids (from active subscriptions in the target areas, or from a poll's
voters for a results broadcast), committed together with `planned_through_citizen_id`. A planner
killed at any moment resumes after the last committed chunk: no gaps, and UNIQUE
(broadcast_id, citizen_id) plus the compare-and-set on the watermark rule out duplicates.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, literal, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import NotFound
from bot.store.base import Repo
from bot.store.models import Broadcast, ChannelIdentity, Delivery, Poll, Subscription, UTCDateTime, Vote
from bot.store.participation import area_ids_for_codes

if TYPE_CHECKING:
    from bot.store import Store

log = logging.getLogger(__name__)

KINDS = ("announcement", "poll", "consultation", "poll_result")
DELIVERY_STATUSES = ("pending", "sending", "sent", "failed", "window_closed", "deferred", "skipped")


@dataclass(frozen=True, slots=True)
class BroadcastInfo:
    id: int
    kind: str
    text: str
    image: str | None
    area_codes: tuple[str, ...]
    poll_id: int | None
    consultation_id: int | None
    status: str  # draft | planning | sending | done
    planned_count: int
    planned_through_citizen_id: int
    created_by: int | None
    created_at: datetime

    @classmethod
    def of(cls, row: Broadcast) -> BroadcastInfo:
        return cls(id=row.id, kind=row.kind, text=row.text, image=row.image,
                   area_codes=tuple(str(c) for c in row.area_codes or ()), poll_id=row.poll_id,
                   consultation_id=row.consultation_id, status=row.status, planned_count=row.planned_count,
                   planned_through_citizen_id=row.planned_through_citizen_id, created_by=row.created_by,
                   created_at=row.created_at)


@dataclass(frozen=True, slots=True)
class BroadcastProgress:
    broadcast: BroadcastInfo
    counts: dict[str, int]  # delivery status → rows

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def sent(self) -> int:
        return self.counts.get("sent", 0)

    @property
    def failed(self) -> int:
        return self.counts.get("failed", 0)

    @property
    def held(self) -> int:
        """Zalo recipients outside their window or over the monthly cap: counted, not dropped."""
        return sum(self.counts.get(k, 0) for k in ("window_closed", "deferred", "skipped"))

    @property
    def pending(self) -> int:
        return self.counts.get("pending", 0) + self.counts.get("sending", 0)

    @property
    def finished(self) -> bool:
        return self.broadcast.status != "planning" and self.pending == 0


class BroadcastRepo(Repo):
    async def create(self, *, kind: str, text: str, image: str | None = None, area_codes: Sequence[str] = (),
                     poll_id: int | None = None, consultation_id: int | None = None,
                     created_by: int | None = None) -> BroadcastInfo:
        """A broadcast ready to plan (status "planning")."""
        if kind not in KINDS:
            raise ValueError(f"unknown broadcast kind {kind!r}")
        async with self.session() as s:
            row = Broadcast(kind=kind, text=text, image=image, area_codes=list(area_codes), poll_id=poll_id,
                            consultation_id=consultation_id, status="planning", planned_count=0,
                            planned_through_citizen_id=0, created_by=created_by, created_at=self.clock.now())
            s.add(row)
            await s.flush()
            return BroadcastInfo.of(row)

    async def create_poll_results(self, poll_id: int, text: str, area_codes: Sequence[str] = ()) -> BroadcastInfo:
        """The results broadcast of a closed poll, once (a second call returns the first)."""
        async with self.session() as s:
            row = await s.scalar(select(Broadcast).where(Broadcast.poll_id == poll_id,
                                                         Broadcast.kind == "poll_result"))
            if row is None:
                row = Broadcast(kind="poll_result", text=text, area_codes=list(area_codes), poll_id=poll_id,
                                status="planning", planned_count=0, planned_through_citizen_id=0,
                                created_at=self.clock.now())
                s.add(row)
                await s.flush()
            await s.execute(update(Poll).where(Poll.id == poll_id, Poll.results_sent_at.is_(None))
                            .values(results_sent_at=self.clock.now()).execution_options(synchronize_session=False))
            return BroadcastInfo.of(row)

    async def get(self, broadcast_id: int) -> BroadcastInfo | None:
        async with self.read() as s:
            row = await s.get(Broadcast, broadcast_id)
            return BroadcastInfo.of(row) if row is not None else None

    async def planning(self) -> list[int]:
        """Broadcasts whose planning is not finished (after a crash, or just created)."""
        async with self.read() as s:
            return list(await s.scalars(select(Broadcast.id).where(Broadcast.status == "planning")
                                        .order_by(Broadcast.id)))

    async def count_recipients(self, area_codes: Sequence[str]) -> int:
        """How many distinct citizens are subscribed in the areas (for the preview)."""
        async with self.read() as s:
            src = await _subscriber_ids(s, area_codes)
            sub = src.subquery()
            return int(await s.scalar(select(func.count()).select_from(sub)) or 0)

    async def plan_chunk(self, broadcast_id: int, chunk: int = 20_000) -> int | None:
        """Plan the next keyset page of recipients. Returns rows added, or None when planning is done.

        Safe to call from several processes at once: a chunk that loses the race is rolled back
        and reported as 0 rows added.
        """
        try:
            return await self._plan_chunk(broadcast_id, chunk)
        except _Raced:
            log.info("broadcast %s: another planner took this chunk", broadcast_id)
            return 0

    async def _plan_chunk(self, broadcast_id: int, chunk: int) -> int | None:
        async with self.session() as s:
            row = await s.get(Broadcast, broadcast_id)
            if row is None:
                raise NotFound(f"broadcast {broadcast_id}")
            if row.status != "planning":
                return None
            lo = int(row.planned_through_citizen_id)
            if row.kind == "poll_result":
                src: Select[Any] = select(Vote.citizen_id.label("cid")).where(Vote.poll_id == row.poll_id)
                ident_col = Vote.citizen_id
            else:
                src = await _subscriber_ids(s, [str(c) for c in row.area_codes or ()])
                ident_col = Subscription.citizen_id
            page = src.where(ident_col > lo).order_by(ident_col).limit(chunk).subquery()
            hi = await s.scalar(select(func.max(page.c.cid)))
            if hi is None:
                row.status = "sending"
                log.info("broadcast planned id=%s recipients=%s", broadcast_id, row.planned_count)
                return None
            window = src.where(ident_col > lo, ident_col <= hi).subquery()
            added = await _insert_deliveries(s, broadcast_id, window, self.clock.now())
            done = await s.execute(
                update(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.planned_through_citizen_id == lo)
                .values(planned_through_citizen_id=hi, planned_count=Broadcast.planned_count + added)
                .execution_options(synchronize_session=False))
            if getattr(done, "rowcount", 1) != 1:  # another planner moved the watermark: undo ours
                raise _Raced()
            return added

    async def progress(self, broadcast_id: int) -> BroadcastProgress:
        async with self.read() as s:
            row = await s.get(Broadcast, broadcast_id)
            if row is None:
                raise NotFound(f"broadcast {broadcast_id}")
            rows = await s.execute(select(Delivery.status, func.count()).where(Delivery.broadcast_id == broadcast_id)
                                   .group_by(Delivery.status))
            counts = {str(k): int(v) for k, v in rows}
            if row.status == "sending" and counts and not counts.get("pending") and not counts.get("sending"):
                row.status = "done"  # reported only; the row is not written from a read
            return BroadcastProgress(BroadcastInfo.of(row), counts)

    async def recent(self, limit: int = 10) -> list[BroadcastInfo]:
        async with self.read() as s:
            rows = await s.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(limit))
            return [BroadcastInfo.of(r) for r in rows]


class _Raced(Exception):
    """Raised inside a chunk's transaction to roll it back when another planner won."""


async def _subscriber_ids(s: AsyncSession, area_codes: Sequence[str]) -> Select[Any]:
    """SELECT DISTINCT citizen_id of active subscriptions in the areas (all areas when empty)."""
    q = select(Subscription.citizen_id.label("cid")).where(Subscription.active.is_(True)).distinct()
    if area_codes:
        ids = await area_ids_for_codes(s, area_codes)
        q = q.where(Subscription.area_id.in_(ids or [-1]))
    return q


async def _insert_deliveries(s: AsyncSession, broadcast_id: int, window: Any, now: datetime) -> int:
    """INSERT … SELECT one pending Delivery per citizen in `window`, on their best reachable identity."""
    best = (select(ChannelIdentity.id)
            .where(ChannelIdentity.citizen_id == window.c.cid, ChannelIdentity.unreachable_at.is_(None))
            .order_by(func.coalesce(ChannelIdentity.last_interaction_at, ChannelIdentity.created_at).desc(),
                      ChannelIdentity.id.desc())
            .limit(1).correlate(window).scalar_subquery())
    stamp = literal(now, UTCDateTime())
    rows = (select(literal("broadcast"), literal(broadcast_id), window.c.cid, ChannelIdentity.channel,
                   ChannelIdentity.channel_user_id, literal("pending"), literal(0), stamp, stamp)
            .select_from(window.join(ChannelIdentity, ChannelIdentity.id == best))
            .where(true()))  # SQLite needs a WHERE before ON CONFLICT in INSERT … SELECT
    columns = ["kind", "broadcast_id", "citizen_id", "channel", "channel_user_id", "status", "attempts",
               "next_attempt_at", "created_at"]
    dialect = s.get_bind().dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(Delivery).from_select(columns, rows).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(Delivery).from_select(columns, rows).on_conflict_do_nothing()
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"unsupported database {dialect}")
    result = await s.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


def broadcast_repo(store: Store) -> BroadcastRepo:
    """The repository over an open Store (cheap: shares its pool and clock)."""
    return BroadcastRepo(store.sessionmaker, store.clock)
