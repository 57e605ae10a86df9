"""How a case moves: acknowledge, assign, status, reply, note, merge, feedback, rating, escalation.

Each change is one transaction: the case row (guarded by `Case.version`, so two officials
changing one case at once never lose an update — the loser gets `Conflict`), a `CaseEvent`,
and whatever the caller's hooks add in the same transaction (audit rows, outbox deliveries).
Hooks receive the session and a `CaseChange`; the store itself knows nothing of messages.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import Conflict, InvalidInput, NotFound
from bot.store.base import Repo
from bot.store.models import Area, Case, CaseEvent, CaseSupporter
from bot.store.views import CaseInfo, EventInfo

log = logging.getLogger(__name__)

OPEN_STATUSES = ("received", "acknowledged", "assigned", "in_progress", "reopened")
FINAL_STATUSES = ("closed", "rejected", "duplicate")
# What an official may move a case to, from each status.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "received": ("acknowledged", "assigned", "in_progress", "resolved", "rejected"),
    "acknowledged": ("assigned", "in_progress", "resolved", "rejected"),
    "assigned": ("in_progress", "resolved", "rejected"),
    "in_progress": ("resolved", "rejected"),
    "reopened": ("acknowledged", "assigned", "in_progress", "resolved", "rejected"),
    "resolved": ("in_progress",),
}


@dataclass(frozen=True, slots=True)
class CaseChange:
    """What a hook learns about a change it is part of."""

    action: str  # ack | assign | status | reply | note | merge | feedback | rating | escalate | priority
    case: CaseInfo  # after the change
    event: EventInfo
    from_status: str
    at: datetime
    official_id: int | None = None
    into: CaseInfo | None = None  # merge: the surviving case
    citizen_ids: tuple[int, ...] = ()  # owner first, then supporters: who follows this case


ChangeHook = Callable[[AsyncSession, CaseChange], Awaitable[None]]


class BadTransition(InvalidInput):
    """The case's status does not allow this change (e.g. resolving a rejected case)."""

    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"{current} → {wanted}")
        self.current = current
        self.wanted = wanted


class StaleVersion(Conflict):
    """The caller acted on an older view of the case (a button on an outdated card)."""


async def followers(s: AsyncSession, case: Case) -> tuple[int, ...]:
    """The owner, then co-signers (and owners of merged duplicates), without repeats."""
    rows = await s.scalars(
        select(CaseSupporter.citizen_id).where(CaseSupporter.case_id == case.id).order_by(CaseSupporter.created_at)
    )
    ids = [case.citizen_id]
    ids += [r for r in rows if r not in ids]
    return tuple(ids)


class CaseFlow(Repo):
    """Mixed into `CaseRepo`: every change of a case after it was filed."""

    async def _change(
        self,
        case_id: int,
        action: str,
        apply: Callable[[AsyncSession, Case, datetime], Awaitable[CaseEvent]],
        *,
        official_id: int | None,
        expected_version: int | None,
        hooks: Sequence[ChangeHook],
        touch: bool = True,
        into_id: int | None = None,
    ) -> CaseChange:
        async with self.session() as s:
            case = await s.get(Case, case_id)
            if case is None:
                raise NotFound(f"case {case_id}")
            if expected_version is not None and case.version != expected_version:
                raise StaleVersion(f"case {case.code} is at version {case.version}")
            now = self.clock.now()
            before = case.status
            event = await apply(s, case, now)
            event.case_id, event.created_at = case.id, now
            event.from_status = event.from_status or before
            s.add(event)
            if touch:
                case.updated_at = now
            await s.flush()
            into = await s.get(Case, into_id) if into_id is not None else None
            change = CaseChange(
                action=action,
                case=await _info(s, case),
                event=EventInfo.of(event),
                from_status=before,
                at=now,
                official_id=official_id,
                into=await _info(s, into) if into is not None else None,
                citizen_ids=await followers(s, case),
            )
            for hook in hooks:
                await hook(s, change)
            await s.flush()
            log.info("case change code=%s action=%s %s→%s", case.code, action, before, case.status)
            return change

    async def acknowledge(
        self, case_id: int, *, official_id: int, expected_version: int | None = None,
        hooks: Sequence[ChangeHook] = (),
    ) -> CaseChange:
        async def apply(s: AsyncSession, case: Case, now: datetime) -> CaseEvent:
            if case.status not in ("received", "reopened"):
                raise BadTransition(case.status, "acknowledged")
            case.status = "acknowledged"
            case.acknowledged_at = case.acknowledged_at or now
            return CaseEvent(kind="status", actor_type="official", actor_id=official_id,
                             to_status="acknowledged", public=True)

        return await self._change(case_id, "ack", apply, official_id=official_id,
                                  expected_version=expected_version, hooks=hooks)

    async def assign(
        self, case_id: int, unit: str, *, official_id: int, expected_version: int | None = None,
        hooks: Sequence[ChangeHook] = (),
    ) -> CaseChange:
        """Hand the case to `unit`; a case not yet in progress becomes "assigned"."""
        unit = unit.strip()
        if not unit or len(unit) > 128:
            raise InvalidInput("unit")

        async def apply(s: AsyncSession, case: Case, now: datetime) -> CaseEvent:
            if case.status in FINAL_STATUSES or case.status == "resolved":
                raise BadTransition(case.status, "assigned")
            case.assignee_unit = unit
            if case.status in ("received", "acknowledged", "reopened"):
                case.status = "assigned"
            case.acknowledged_at = case.acknowledged_at or now
            return CaseEvent(kind="assignment", actor_type="official", actor_id=official_id,
                             to_status=case.status, body=unit, public=True)

        return await self._change(case_id, "assign", apply, official_id=official_id,
                                  expected_version=expected_version, hooks=hooks)

    async def set_status(
        self, case_id: int, status: str, *, official_id: int | None, note: str | None = None,
        expected_version: int | None = None, hooks: Sequence[ChangeHook] = (),
    ) -> CaseChange:
        """An official's status change; "rejected" requires a reason (`note`)."""
        if status == "rejected" and not (note and note.strip()):
            raise InvalidInput("reason_required")

        async def apply(s: AsyncSession, case: Case, now: datetime) -> CaseEvent:
            if status not in TRANSITIONS.get(case.status, ()):
                raise BadTransition(case.status, status)
            case.status = status
            case.acknowledged_at = case.acknowledged_at or now
            if status == "resolved":
                case.resolved_at = now
            if status == "rejected":
                case.closed_at = now
            return CaseEvent(kind="status", actor_type="official" if official_id else "system",
                             actor_id=official_id, to_status=status, body=(note or "").strip() or None,
                             public=True)

        return await self._change(case_id, "status", apply, official_id=official_id,
                                  expected_version=expected_version, hooks=hooks)

    async def reply(
        self, case_id: int, text: str, *, official_id: int, hooks: Sequence[ChangeHook] = (),
    ) -> CaseChange:
        """A public answer to the citizen (relayed through the outbox by a hook)."""
        if not text.strip():
            raise InvalidInput("empty")

        async def apply(s: AsyncSession, case: Case, now: datetime) -> CaseEvent:
            if case.status == "duplicate":
                raise BadTransition(case.status, "reply")
            return CaseEvent(kind="reply", actor_type="official", actor_id=official_id,
                             to_status=case.status, body=text.strip(), public=True)

        return await self._change(case_id, "reply", apply, official_id=official_id,
                                  expected_version=None, hooks=hooks)

    async def add_note(
        self, case_id: int, text: str, *, official_id: int, hooks: Sequence[ChangeHook] = (),
    ) -> CaseChange:
        """An internal note: officials see it, the citizen never does. The case row is untouched."""
        if not text.strip():
            raise InvalidInput("empty")

        async def apply(s: AsyncSession, case: Case, now: datetime) -> CaseEvent:
            return CaseEvent(kind="note", actor_type="official", actor_id=official_id,
                             to_status=case.status, body=text.strip(), public=False)

        return await self._change(case_id, "note", apply, official_id=official_id,
                                  expected_version=None, hooks=hooks, touch=False)

    async def merge(
        self, case_id: int, into_id: int, *, official_id: int, hooks: Sequence[ChangeHook] = (),
    ) -> CaseChange:
        """Mark `case_id` a duplicate of `into_id`; its followers now follow the survivor."""
        if case_id == into_id:
            raise InvalidInput("same_case")

        async def apply(s: AsyncSession, case: Case, now: datetime) -> CaseEvent:
            into = await s.get(Case, into_id)
            if into is None:
                raise NotFound(f"case {into_id}")
            if case.status in FINAL_STATUSES:
                raise BadTransition(case.status, "duplicate")
            if into.status == "duplicate":
                raise BadTransition(into.status, "merge_into")
            moving = await followers(s, case)
            present = set(await followers(s, into))
            for citizen_id in moving:
                if citizen_id not in present:
                    s.add(CaseSupporter(case_id=into.id, citizen_id=citizen_id, created_at=now))
                    present.add(citizen_id)
            case.status = "duplicate"
            case.merged_into_id = into.id
            case.closed_at = now
            into.updated_at = now
            s.add(CaseEvent(case_id=into.id, kind="merge", actor_type="official", actor_id=official_id,
                            to_status=into.status, body=case.code, public=False, created_at=now))
            return CaseEvent(kind="merge", actor_type="official", actor_id=official_id,
                             to_status="duplicate", body=into.code, public=True)

        return await self._change(case_id, "merge", apply, official_id=official_id,
                                  expected_version=None, hooks=hooks, into_id=into_id)

    async def feedback(
        self, case_id: int, citizen_id: int, *, fixed: bool, hooks: Sequence[ChangeHook] = (),
    ) -> CaseChange:
        """The owner's answer after "resolved": fixed closes the case, not fixed reopens it."""

        async def apply(s: AsyncSession, case: Case, now: datetime) -> CaseEvent:
            if case.citizen_id != citizen_id:
                raise InvalidInput("not_owner")
            if case.status != "resolved":
                raise BadTransition(case.status, "closed" if fixed else "reopened")
            case.status = "closed" if fixed else "reopened"
            if fixed:
                case.closed_at = now
            else:
                case.resolved_at = None
                case.escalated_at = None
            return CaseEvent(kind="feedback", actor_type="citizen", actor_id=citizen_id,
                             to_status=case.status, body="fixed" if fixed else "not_fixed", public=True)

        return await self._change(case_id, "feedback", apply, official_id=None,
                                  expected_version=None, hooks=hooks)

    async def auto_close(self, case_id: int, *, expected_version: int,
                         hooks: Sequence[ChangeHook] = ()) -> CaseChange:
        """Close a resolved case whose citizen never answered "fixed / not fixed" (system action)."""

        async def apply(s: AsyncSession, case: Case, now: datetime) -> CaseEvent:
            if case.status != "resolved":
                raise BadTransition(case.status, "closed")
            case.status, case.closed_at = "closed", now
            return CaseEvent(kind="status", actor_type="system", to_status="closed", body=None, public=True)

        return await self._change(case_id, "auto_close", apply, official_id=None,
                                  expected_version=expected_version, hooks=hooks)

    async def rate(self, case_id: int, citizen_id: int, rating: int) -> CaseChange:
        """The owner's 1–5 rating of how the case was handled (the latest one counts)."""
        if not 1 <= rating <= 5:
            raise InvalidInput("rating")

        async def apply(s: AsyncSession, case: Case, now: datetime) -> CaseEvent:
            if case.citizen_id != citizen_id:
                raise InvalidInput("not_owner")
            if case.status not in ("resolved", "closed", "reopened"):
                raise BadTransition(case.status, "rating")
            case.rating = rating
            return CaseEvent(kind="rating", actor_type="citizen", actor_id=citizen_id,
                             to_status=case.status, body=str(rating), public=True)

        return await self._change(case_id, "rating", apply, official_id=None,
                                  expected_version=None, hooks=(), touch=False)

    async def set_priority(
        self, case_id: int, priority: str, *, official_id: int, ack_due_at: datetime | None,
        due_at: datetime | None, hooks: Sequence[ChangeHook] = (),
    ) -> CaseChange:
        """Change the priority and the deadlines that follow from it."""
        if priority not in ("normal", "urgent"):
            raise InvalidInput("priority")

        async def apply(s: AsyncSession, case: Case, now: datetime) -> CaseEvent:
            if case.status not in OPEN_STATUSES:
                raise BadTransition(case.status, "priority")
            case.priority = priority
            case.ack_due_at, case.due_at = ack_due_at, due_at
            return CaseEvent(kind="priority", actor_type="official", actor_id=official_id,
                             to_status=case.status, body=priority, public=False)

        return await self._change(case_id, "priority", apply, official_id=official_id,
                                  expected_version=None, hooks=hooks)

    async def mark_escalated(
        self, case_id: int, *, expected_version: int, hooks: Sequence[ChangeHook] = (),
    ) -> CaseChange | None:
        """Escalate an overdue case once. None when it already was (or changed meanwhile)."""

        async def apply(s: AsyncSession, case: Case, now: datetime) -> CaseEvent:
            if case.escalated_at is not None or case.status not in OPEN_STATUSES:
                raise BadTransition(case.status, "escalated")
            case.escalated_at = now
            return CaseEvent(kind="escalation", actor_type="system", to_status=case.status, public=True)

        try:
            return await self._change(case_id, "escalate", apply, official_id=None,
                                      expected_version=expected_version, hooks=hooks, touch=False)
        except (BadTransition, Conflict):
            return None


async def _info(s: AsyncSession, case: Case) -> CaseInfo:
    area_name = await s.scalar(select(Area.name).where(Area.id == case.area_id)) if case.area_id else None
    return CaseInfo.of(case, area_name)
