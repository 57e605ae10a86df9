"""Citizen reports (cases): creation with attachments, lookup by code, timeline.

Feature code that changes cases (status, assignment, merge) reuses `CaseRepo.session()` as its
unit of work and `case_info()` to return views; `Case.version` is an optimistic lock, so a lost
race surfaces as `bot.errors.Conflict`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import casecode
from bot.clock import Clock
from bot.errors import InvalidInput, MediaRejected, NotFound
from bot.messages import Media
from bot.store.base import is_unique_violation
from bot.store.caseflow import CaseFlow
from bot.store.casequeries import CaseQueries
from bot.store.media import MediaStore, SavedMedia
from bot.store.models import Area, Attachment, Case, CaseEvent, CaseSupporter, Citizen
from bot.store.views import AttachmentInfo, CaseInfo, EventInfo

log = logging.getLogger(__name__)

STATUSES = (
    "received",
    "acknowledged",
    "assigned",
    "in_progress",
    "resolved",
    "closed",
    "rejected",
    "duplicate",
    "reopened",
)
PRIORITIES = ("normal", "urgent")
_CODE_ATTEMPTS = 20


async def case_info(s: AsyncSession, case: Case) -> CaseInfo:
    """The view of a case loaded in session `s` (looks up the area name)."""
    area_name = await s.scalar(select(Area.name).where(Area.id == case.area_id)) if case.area_id else None
    return CaseInfo.of(case, area_name)


def _with_area() -> Select[Case, str]:  # outer join: the name may be None
    return select(Case, Area.name).outerjoin(Area, Case.area_id == Area.id)


class CaseRepo(CaseFlow, CaseQueries):
    """Filing and reading cases; changes (`CaseFlow`) and official-side reads (`CaseQueries`)."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        media: MediaStore,
        *,
        code_factory: Callable[[], str] = casecode.new_code,
    ) -> None:
        super().__init__(sessionmaker, clock)
        self.media = media
        self._new_code = code_factory

    async def create(
        self,
        citizen_id: int,
        *,
        category: str,
        description: str | None,
        area_id: int | None,
        lat: float | None,
        lon: float | None,
        anonymous: bool,
        channel: str,
        media: Sequence[SavedMedia | Media] = (),
        priority: str = "normal",
        ack_due_at: datetime | None = None,
        due_at: datetime | None = None,
    ) -> CaseInfo:
        """File a report: status "received", a "created" event and one attachment per media.

        Media may be already saved (`SavedMedia`) or raw `Media`: raw bytes are saved here; a
        download that failed or a file the media store rejects still becomes an attachment,
        without bytes and with a `note` saying why — the report itself is never lost.
        """
        if priority not in PRIORITIES:
            raise InvalidInput(f"priority {priority!r}")
        attachments = [await self._attachment_values(m) for m in media]
        for attempt in range(_CODE_ATTEMPTS):
            code = self._new_code()
            try:
                async with self.session() as s:
                    if await s.get(Citizen, citizen_id) is None:
                        raise NotFound(f"citizen {citizen_id}")
                    if area_id is not None and await s.get(Area, area_id) is None:
                        raise NotFound(f"area {area_id}")
                    if await s.scalar(select(Case.id).where(Case.code == code)) is not None:
                        continue
                    now = self.clock.now()
                    case = Case(
                        code=code,
                        citizen_id=citizen_id,
                        category=category,
                        description=description,
                        area_id=area_id,
                        lat=lat,
                        lon=lon,
                        status="received",
                        priority=priority,
                        anonymous=anonymous,
                        source_channel=channel,
                        ack_due_at=ack_due_at,
                        due_at=due_at,
                        created_at=now,
                        updated_at=now,
                    )
                    s.add(case)
                    await s.flush()
                    s.add(
                        CaseEvent(
                            case_id=case.id,
                            kind="created",
                            actor_type="citizen",
                            actor_id=citizen_id,
                            to_status="received",
                            public=True,
                            created_at=now,
                        )
                    )
                    s.add_all(Attachment(case_id=case.id, created_at=now, **values) for values in attachments)
                    await s.flush()
                    log.info("case created code=%s category=%s channel=%s", code, category, channel)
                    return await case_info(s, case)
            except IntegrityError as exc:
                if not is_unique_violation(exc):
                    raise
                log.debug("case code collision (attempt %d)", attempt + 1)
        raise RuntimeError("could not find a free case code")

    async def add_attachments(
        self, case_id: int, media: Sequence[SavedMedia | Media]
    ) -> list[AttachmentInfo]:
        """Attach more media to an existing case (same rules as in `create`)."""
        values = [await self._attachment_values(m) for m in media]
        async with self.session() as s:
            if await s.get(Case, case_id) is None:
                raise NotFound(f"case {case_id}")
            now = self.clock.now()
            rows = [Attachment(case_id=case_id, created_at=now, **v) for v in values]
            s.add_all(rows)
            await s.flush()
            return [AttachmentInfo.of(r) for r in rows]

    async def _attachment_values(self, media: SavedMedia | Media) -> dict[str, object]:
        if isinstance(media, Media) and media.data:
            try:
                media = await self.media.save(media)
            except MediaRejected as exc:
                return {
                    "kind": media.kind,
                    "mime": media.mime,
                    "source_ref": media.source_ref,
                    "note": f"rejected:{exc}",
                }
        if isinstance(media, SavedMedia):
            return {
                "kind": media.kind,
                "sha256": media.sha256,
                "mime": media.mime,
                "size": media.size,
                "source_ref": media.source_ref,
            }
        return {
            "kind": media.kind,
            "mime": media.mime,
            "source_ref": media.source_ref,
            "note": media.error or "download_failed",
        }

    # --- reads -------------------------------------------------------------------------------

    async def get(self, case_id: int) -> CaseInfo | None:
        async with self.read() as s:
            row = (await s.execute(_with_area().where(Case.id == case_id))).first()
            return None if row is None else CaseInfo.of(row[0], row[1])

    async def get_by_code(self, code: str) -> CaseInfo | None:
        """Accepts `12345678`, `1234 5678`, `1234-5678`; None when invalid or unknown."""
        normal = casecode.normalize(code)
        if normal is None:
            return None
        async with self.read() as s:
            row = (await s.execute(_with_area().where(Case.code == normal))).first()
            return None if row is None else CaseInfo.of(row[0], row[1])

    async def list_for_citizen(self, citizen_id: int, limit: int = 10, offset: int = 0) -> list[CaseInfo]:
        """The citizen's own cases, newest first."""
        async with self.read() as s:
            rows = await s.execute(
                _with_area()
                .where(Case.citizen_id == citizen_id)
                .order_by(Case.created_at.desc(), Case.id.desc())
                .limit(limit)
                .offset(offset)
            )
            return [CaseInfo.of(c, name) for c, name in rows]

    async def timeline(self, case_id: int, *, include_internal: bool = False) -> list[EventInfo]:
        """The case's events, oldest first; internal notes only when asked for."""
        async with self.read() as s:
            query = select(CaseEvent).where(CaseEvent.case_id == case_id)
            if not include_internal:
                query = query.where(CaseEvent.public.is_(True))
            rows = await s.scalars(query.order_by(CaseEvent.created_at, CaseEvent.id))
            return [EventInfo.of(e) for e in rows]

    async def add_supporter(self, case_id: int, citizen_id: int) -> bool:
        """A co-signer: another citizen with the same problem follows the case and is counted.
        False when they already support it or filed it themselves."""
        try:
            async with self.session() as s:
                case = await s.get(Case, case_id)
                if case is None:
                    raise NotFound(f"case {case_id}")
                if case.citizen_id == citizen_id:
                    return False
                if await s.get(CaseSupporter, (case_id, citizen_id)) is not None:
                    return False
                s.add(CaseSupporter(case_id=case_id, citizen_id=citizen_id, created_at=self.clock.now()))
                await s.flush()
                return True
        except IntegrityError as exc:  # two taps at once: the other one counted
            if is_unique_violation(exc):
                return False
            raise

    async def supporter_count(self, case_id: int) -> int:
        async with self.read() as s:
            count = await s.scalar(select(func.count()).select_from(CaseSupporter)
                                   .where(CaseSupporter.case_id == case_id))
            return int(count or 0)

    async def attachments(self, case_id: int) -> list[AttachmentInfo]:
        async with self.read() as s:
            rows = await s.scalars(
                select(Attachment).where(Attachment.case_id == case_id).order_by(Attachment.id)
            )
            return [AttachmentInfo.of(a) for a in rows]

    async def add_event(
        self,
        case_id: int,
        *,
        kind: str,
        actor_type: str,
        actor_id: int | None = None,
        body: str | None = None,
        public: bool = True,
        from_status: str | None = None,
        to_status: str | None = None,
    ) -> EventInfo:
        """Append to the timeline without touching the case row (status changes do that)."""
        async with self.session() as s:
            if await s.get(Case, case_id) is None:
                raise NotFound(f"case {case_id}")
            event = CaseEvent(
                case_id=case_id,
                kind=kind,
                actor_type=actor_type,
                actor_id=actor_id,
                body=body,
                public=public,
                from_status=from_status,
                to_status=to_status,
                created_at=self.clock.now(),
            )
            s.add(event)
            await s.flush()
            return EventInfo.of(event)

    async def count(
        self,
        *,
        status: str | Iterable[str] | None = None,
        citizen_id: int | None = None,
        category: str | None = None,
        area_ids: Iterable[int] | None = None,
        priority: str | None = None,
        channel: str | None = None,
        since: datetime | None = None,
    ) -> int:
        """How many cases match all the given filters."""
        query = select(func.count()).select_from(Case)
        if status is not None:
            statuses = [status] if isinstance(status, str) else list(status)
            query = query.where(Case.status.in_(statuses))
        if citizen_id is not None:
            query = query.where(Case.citizen_id == citizen_id)
        if category is not None:
            query = query.where(Case.category == category)
        if area_ids is not None:
            query = query.where(Case.area_id.in_(list(area_ids)))
        if priority is not None:
            query = query.where(Case.priority == priority)
        if channel is not None:
            query = query.where(Case.source_channel == channel)
        if since is not None:
            query = query.where(Case.created_at >= since)
        async with self.read() as s:
            return int(await s.scalar(query) or 0)
