"""Participation data: subscriptions, polls and votes, consultations and comments.

One vote per citizen per poll is the database's rule (UNIQUE poll_id+citizen_id on `votes`);
`vote()` relies on it under concurrency and turns a lost race into an update of the one ballot.
Area targeting: a poll/consultation lists area codes (communes or provinces; empty = everywhere);
a citizen is in scope when the code of their home commune or of its province is listed.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.errors import InvalidInput, NotFound
from bot.messages import Media
from bot.store.base import Repo, is_unique_violation
from bot.store.media import MediaStore, SavedMedia
from bot.store.models import (
    Area,
    Attachment,
    Comment,
    Consultation,
    Official,
    Poll,
    PollOption,
    Subscription,
    Vote,
    VoteChoice,
)

if TYPE_CHECKING:
    from bot.store import Store

log = logging.getLogger(__name__)

MIN_OPTIONS, MAX_OPTIONS = 2, 10
METHODS = ("single", "approval")


class VoteRefused(InvalidInput):
    """A ballot that cannot be taken; `reason` is a short key the dialog turns into words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # not_found | closed | wrong_area | no_area | need_phone | out_of_range | too_many | empty


# --- views ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PollInfo:
    id: int
    question: str
    method: str
    max_choices: int
    area_codes: tuple[str, ...]
    require_verified_phone: bool
    status: str
    opens_at: datetime
    closes_at: datetime
    created_by: int | None
    results_sent_at: datetime | None
    created_at: datetime
    options: tuple[str, ...]

    def is_open(self, now: datetime) -> bool:
        return self.status == "open" and self.opens_at <= now < self.closes_at

    @classmethod
    def of(cls, row: Poll, options: Sequence[str]) -> PollInfo:
        return cls(id=row.id, question=row.question, method=row.method, max_choices=row.max_choices,
                   area_codes=tuple(str(c) for c in row.area_codes or ()),
                   require_verified_phone=row.require_verified_phone, status=row.status,
                   opens_at=row.opens_at, closes_at=row.closes_at, created_by=row.created_by,
                   results_sent_at=row.results_sent_at, created_at=row.created_at, options=tuple(options))


@dataclass(frozen=True, slots=True)
class VoteOutcome:
    positions: tuple[int, ...]  # 1-based option numbers chosen
    changed: bool  # True when an earlier ballot was replaced


@dataclass(frozen=True, slots=True)
class AreaTally:
    area_id: int | None
    area_name: str | None
    voters: int
    counts: tuple[int, ...]  # per option, in option order


@dataclass(frozen=True, slots=True)
class PollResults:
    poll: PollInfo
    voters: int
    counts: tuple[int, ...]
    by_area: tuple[AreaTally, ...] = field(default_factory=tuple)

    def for_area(self, area_id: int | None) -> AreaTally | None:
        return next((a for a in self.by_area if a.area_id == area_id), None)


@dataclass(frozen=True, slots=True)
class ConsultationInfo:
    id: int
    title: str
    summary: str
    link: str | None
    area_codes: tuple[str, ...]
    question: str | None
    options: tuple[str, ...]
    status: str
    deadline: datetime
    created_by: int | None
    created_at: datetime

    def is_open(self, now: datetime) -> bool:
        return self.status == "open" and now < self.deadline

    @classmethod
    def of(cls, row: Consultation) -> ConsultationInfo:
        return cls(id=row.id, title=row.title, summary=row.summary, link=row.link,
                   area_codes=tuple(str(c) for c in row.area_codes or ()), question=row.question,
                   options=tuple(str(o) for o in row.options or ()), status=row.status,
                   deadline=row.deadline, created_by=row.created_by, created_at=row.created_at)


@dataclass(frozen=True, slots=True)
class CommentInfo:
    id: int
    consultation_id: int
    citizen_id: int
    area_id: int | None
    area_name: str | None
    text: str | None
    choice: str | None
    voice_count: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OfficialRef:
    """Who an official is, as far as participation needs: role and jurisdiction."""

    id: int
    role: str
    unit: str
    area_codes: tuple[str, ...]
    locale: str


# --- the repository ---------------------------------------------------------------------


class ParticipationRepo(Repo):
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock,
                 media: MediaStore | None = None) -> None:
        super().__init__(sessionmaker, clock)
        self.media = media

    # --- areas ----------------------------------------------------------------------
    async def area_scope(self, area_id: int | None) -> tuple[str, ...]:
        """The codes that put `area_id` in scope: its own and its province's."""
        if area_id is None:
            return ()
        async with self.read() as s:
            row = (await s.execute(select(Area.code, Area.parent_id).where(Area.id == area_id))).first()
            if row is None:
                return ()
            codes = [row[0]]
            if row[1] is not None:
                parent = await s.scalar(select(Area.code).where(Area.id == row[1]))
                if parent:
                    codes.append(parent)
            return tuple(codes)

    @staticmethod
    def in_scope(target_codes: Sequence[str], scope: Sequence[str]) -> bool:
        return not target_codes or any(code in target_codes for code in scope)

    async def area_ids_for_codes(self, codes: Sequence[str]) -> list[int]:
        """Commune ids covered by `codes` (a province code covers its communes)."""
        async with self.read() as s:
            return await area_ids_for_codes(s, codes)

    # --- officials (read-only; roles are managed by the officials feature) -----------
    async def official_for(self, channel: str, channel_user_id: str) -> OfficialRef | None:
        async with self.read() as s:
            row = await s.scalar(select(Official).where(
                Official.channel == channel, Official.channel_user_id == channel_user_id,
                Official.active.is_(True)))
            if row is None:
                return None
            return OfficialRef(id=row.id, role=row.role, unit=row.unit,
                               area_codes=tuple(str(c) for c in row.area_codes or ()), locale=row.locale)

    # --- subscriptions --------------------------------------------------------------
    async def subscribe(self, citizen_id: int, area_id: int, topic: str = "all") -> bool:
        """Opt in (again). True when this is new or re-activated, False when already on."""
        now = self.clock.now()
        for _ in range(2):
            try:
                async with self.session() as s:
                    row = await s.scalar(select(Subscription).where(
                        Subscription.citizen_id == citizen_id, Subscription.area_id == area_id,
                        Subscription.topic == topic))
                    if row is None:
                        s.add(Subscription(citizen_id=citizen_id, area_id=area_id, topic=topic,
                                           active=True, created_at=now))
                        return True
                    if row.active:
                        return False
                    row.active, row.stopped_at = True, None
                    return True
            except IntegrityError as exc:  # a concurrent opt-in won: read it again
                if not is_unique_violation(exc):
                    raise
        return False

    async def stop_all(self, citizen_id: int) -> int:
        """STOP: every active subscription of the citizen ends now. Returns how many."""
        async with self.session() as s:
            result = await s.execute(
                update(Subscription)
                .where(Subscription.citizen_id == citizen_id, Subscription.active.is_(True))
                .values(active=False, stopped_at=self.clock.now()))
            return int(getattr(result, "rowcount", 0) or 0)

    async def subscribed_area_ids(self, citizen_id: int) -> list[int]:
        async with self.read() as s:
            rows = await s.scalars(select(Subscription.area_id).where(
                Subscription.citizen_id == citizen_id, Subscription.active.is_(True)).order_by(Subscription.id))
            return list(rows)

    # --- polls ----------------------------------------------------------------------
    async def create_poll(self, *, question: str, options: Sequence[str], area_codes: Sequence[str],
                          closes_at: datetime, method: str = "single", max_choices: int = 1,
                          require_verified_phone: bool = False, created_by: int | None = None) -> PollInfo:
        labels = [o.strip() for o in options if o.strip()]
        if not question.strip():
            raise InvalidInput("empty_question")
        if not MIN_OPTIONS <= len(labels) <= MAX_OPTIONS:
            raise InvalidInput("option_count")
        if method not in METHODS:
            raise InvalidInput("method")
        max_choices = 1 if method == "single" else max(1, min(max_choices, len(labels)))
        now = self.clock.now()
        if closes_at <= now:
            raise InvalidInput("closes_in_past")
        async with self.session() as s:
            poll = Poll(question=question.strip(), method=method, max_choices=max_choices,
                        area_codes=list(area_codes), require_verified_phone=require_verified_phone,
                        status="open", opens_at=now, closes_at=closes_at, created_by=created_by,
                        created_at=now)
            s.add(poll)
            await s.flush()
            s.add_all(PollOption(poll_id=poll.id, position=i, label=label[:200])
                      for i, label in enumerate(labels, start=1))
            return PollInfo.of(poll, [label[:200] for label in labels])

    async def get_poll(self, poll_id: int) -> PollInfo | None:
        async with self.read() as s:
            return await _poll_info(s, poll_id)

    async def list_polls(self, *, status: str | None = None, limit: int = 20) -> list[PollInfo]:
        async with self.read() as s:
            q = select(Poll.id).order_by(Poll.id.desc()).limit(limit)
            if status:
                q = q.where(Poll.status == status)
            ids = list(await s.scalars(q))
            return [p for i in ids if (p := await _poll_info(s, i)) is not None]

    async def open_polls_for(self, area_id: int | None, *, limit: int = 8) -> list[PollInfo]:
        """Open polls whose targets include the area (or everywhere), newest first."""
        scope = await self.area_scope(area_id)
        now = self.clock.now()
        polls = [p for p in await self.list_polls(status="open", limit=200) if p.is_open(now)]
        return [p for p in polls if self.in_scope(p.area_codes, scope)][:limit]

    async def my_vote(self, poll_id: int, citizen_id: int) -> tuple[int, ...]:
        """The option numbers of the citizen's ballot (empty when none)."""
        async with self.read() as s:
            rows = await s.scalars(
                select(PollOption.position).join(VoteChoice, VoteChoice.option_id == PollOption.id)
                .join(Vote, Vote.id == VoteChoice.vote_id)
                .where(Vote.poll_id == poll_id, Vote.citizen_id == citizen_id).order_by(PollOption.position))
            return tuple(rows)

    async def vote(self, poll_id: int, citizen_id: int, positions: Sequence[int], *,
                   area_id: int | None, phone_verified: bool) -> VoteOutcome:
        """Cast or replace the citizen's one ballot. Raises VoteRefused with a reason."""
        chosen = tuple(sorted(set(positions)))
        if not chosen:
            raise VoteRefused("empty")
        scope = await self.area_scope(area_id)
        for attempt in range(3):
            try:
                return await self._vote_once(poll_id, citizen_id, chosen, area_id, scope, phone_verified)
            except IntegrityError as exc:
                # Two first ballots raced; the loser retries and finds the winner's row to replace.
                if not is_unique_violation(exc) or attempt == 2:
                    raise
                log.info("vote race poll=%s citizen=%s; retrying", poll_id, citizen_id)
        raise AssertionError("unreachable")

    async def _vote_once(self, poll_id: int, citizen_id: int, chosen: tuple[int, ...], area_id: int | None,
                         scope: tuple[str, ...], phone_verified: bool) -> VoteOutcome:
        now = self.clock.now()
        async with self.session() as s:
            poll = await s.get(Poll, poll_id)
            if poll is None:
                raise VoteRefused("not_found")
            if poll.status != "open" or not poll.opens_at <= now < poll.closes_at:
                raise VoteRefused("closed")
            if poll.area_codes:
                if area_id is None:
                    raise VoteRefused("no_area")
                if not self.in_scope([str(c) for c in poll.area_codes], scope):
                    raise VoteRefused("wrong_area")
            if poll.require_verified_phone and not phone_verified:
                raise VoteRefused("need_phone")
            options = dict((await s.execute(select(PollOption.position, PollOption.id)
                                            .where(PollOption.poll_id == poll_id))).all())
            if any(p not in options for p in chosen):
                raise VoteRefused("out_of_range")
            if len(chosen) > poll.max_choices:
                raise VoteRefused("too_many")
            ballot = await s.scalar(select(Vote).where(Vote.poll_id == poll_id, Vote.citizen_id == citizen_id)
                                    .with_for_update())
            changed = ballot is not None
            if ballot is None:
                ballot = Vote(poll_id=poll_id, citizen_id=citizen_id, area_id=area_id, created_at=now,
                              updated_at=now)
                s.add(ballot)
                await s.flush()  # the UNIQUE(poll_id, citizen_id) check happens here
            else:
                await s.execute(delete(VoteChoice).where(VoteChoice.vote_id == ballot.id))
                ballot.updated_at, ballot.area_id = now, area_id
            s.add_all(VoteChoice(vote_id=ballot.id, option_id=options[p]) for p in chosen)
            return VoteOutcome(positions=chosen, changed=changed)

    async def close_poll(self, poll_id: int) -> PollInfo:
        """Mark closed (idempotent). Sending results is the broadcast planner's job."""
        async with self.session() as s:
            poll = await s.get(Poll, poll_id)
            if poll is None:
                raise NotFound(f"poll {poll_id}")
            if poll.status != "closed":
                poll.status = "closed"
                now = self.clock.now()
                if poll.closes_at > now:
                    poll.closes_at = now
            info = await _poll_info(s, poll_id)
            assert info is not None
            return info

    async def due_polls(self) -> list[int]:
        """Polls to close and send results for: past their close time, or closed without results."""
        async with self.read() as s:
            due = (Poll.status == "open") & (Poll.closes_at <= self.clock.now())
            unsent = (Poll.status == "closed") & Poll.results_sent_at.is_(None)
            rows = await s.scalars(select(Poll.id).where(due | unsent).order_by(Poll.id))
            return list(rows)

    async def results(self, poll_id: int) -> PollResults:
        async with self.read() as s:
            poll = await _poll_info(s, poll_id)
            if poll is None:
                raise NotFound(f"poll {poll_id}")
            n = len(poll.options)
            voters_by_area = dict((await s.execute(
                select(Vote.area_id, func.count(Vote.id)).where(Vote.poll_id == poll_id).group_by(Vote.area_id)
            )).all())
            rows = (await s.execute(
                select(Vote.area_id, PollOption.position, func.count())
                .join(VoteChoice, VoteChoice.vote_id == Vote.id)
                .join(PollOption, PollOption.id == VoteChoice.option_id)
                .where(Vote.poll_id == poll_id).group_by(Vote.area_id, PollOption.position))).all()
            per_area: dict[int | None, list[int]] = {a: [0] * n for a in voters_by_area}
            for area, position, count in rows:
                per_area.setdefault(area, [0] * n)[position - 1] += int(count)
            ids = [a for a in per_area if a is not None]
            names: dict[int, str] = {}
            if ids:
                names = dict((await s.execute(select(Area.id, Area.name).where(Area.id.in_(ids)))).all())
            totals = [sum(c[i] for c in per_area.values()) for i in range(n)]
            tallies = sorted(
                (AreaTally(area_id=a, area_name=names.get(a) if a is not None else None,
                           voters=int(voters_by_area.get(a, 0)), counts=tuple(c)) for a, c in per_area.items()),
                key=lambda t: (-t.voters, t.area_name or ""))
            return PollResults(poll=poll, voters=sum(int(v) for v in voters_by_area.values()),
                               counts=tuple(totals), by_area=tuple(tallies))

    # --- consultations --------------------------------------------------------------
    async def create_consultation(self, *, title: str, summary: str, link: str | None,
                                  area_codes: Sequence[str], deadline: datetime, question: str | None = None,
                                  options: Sequence[str] = (), created_by: int | None = None) -> ConsultationInfo:
        if not title.strip() or not summary.strip():
            raise InvalidInput("empty")
        now = self.clock.now()
        if deadline <= now:
            raise InvalidInput("deadline_in_past")
        async with self.session() as s:
            row = Consultation(title=title.strip()[:200], summary=summary.strip(), link=link,
                               area_codes=list(area_codes), question=question,
                               options=[o.strip()[:200] for o in options if o.strip()], status="open",
                               deadline=deadline, created_by=created_by, created_at=now)
            s.add(row)
            await s.flush()
            return ConsultationInfo.of(row)

    async def get_consultation(self, consultation_id: int) -> ConsultationInfo | None:
        async with self.read() as s:
            row = await s.get(Consultation, consultation_id)
            return ConsultationInfo.of(row) if row is not None else None

    async def list_consultations(self, *, status: str | None = None, limit: int = 20) -> list[ConsultationInfo]:
        async with self.read() as s:
            q = select(Consultation).order_by(Consultation.id.desc()).limit(limit)
            if status:
                q = q.where(Consultation.status == status)
            return [ConsultationInfo.of(r) for r in await s.scalars(q)]

    async def open_consultations_for(self, area_id: int | None, *, limit: int = 8) -> list[ConsultationInfo]:
        scope = await self.area_scope(area_id)
        now = self.clock.now()
        items = [c for c in await self.list_consultations(status="open", limit=200) if c.is_open(now)]
        return [c for c in items if self.in_scope(c.area_codes, scope)][:limit]

    async def close_consultation(self, consultation_id: int) -> ConsultationInfo:
        async with self.session() as s:
            row = await s.get(Consultation, consultation_id)
            if row is None:
                raise NotFound(f"consultation {consultation_id}")
            row.status = "closed"
            return ConsultationInfo.of(row)

    async def add_comment(self, consultation_id: int, citizen_id: int, *, area_id: int | None,
                          text: str | None = None, choice: str | None = None,
                          media: Sequence[Media | SavedMedia] = ()) -> int:
        """Keep a comment (text, a choice, voice notes). Voice is an Attachment with comment_id."""
        if not (text or choice or media):
            raise InvalidInput("empty")
        values = [await self._attachment_values(m) for m in media]
        now = self.clock.now()
        async with self.session() as s:
            row = await s.get(Consultation, consultation_id)
            if row is None:
                raise NotFound(f"consultation {consultation_id}")
            if row.status != "open" or now >= row.deadline:
                raise InvalidInput("closed")
            comment = Comment(consultation_id=consultation_id, citizen_id=citizen_id, area_id=area_id,
                              text=text, choice=choice, themes=[], created_at=now)
            s.add(comment)
            await s.flush()
            s.add_all(Attachment(comment_id=comment.id, created_at=now, **v) for v in values)
            return comment.id

    async def _attachment_values(self, media: Media | SavedMedia) -> dict[str, Any]:
        if isinstance(media, Media) and media.data and self.media is not None:
            try:
                media = await self.media.save(media)
            except InvalidInput as exc:
                return {"kind": media.kind, "mime": media.mime, "source_ref": media.source_ref,
                        "note": f"rejected:{exc}"}
        if isinstance(media, SavedMedia):
            return {"kind": media.kind, "sha256": media.sha256, "mime": media.mime, "size": media.size,
                    "source_ref": media.source_ref}
        return {"kind": media.kind, "mime": media.mime, "source_ref": media.source_ref,
                "note": media.error or "download_failed"}

    async def count_comments(self, consultation_id: int) -> int:
        async with self.read() as s:
            return int(await s.scalar(select(func.count(Comment.id))
                                      .where(Comment.consultation_id == consultation_id)) or 0)

    async def comments(self, consultation_id: int, *, offset: int = 0, limit: int = 5) -> list[CommentInfo]:
        """A page of comments, oldest first."""
        async with self.read() as s:
            return await _comment_page(s, consultation_id, after_id=None, offset=offset, limit=limit)

    async def iter_comments(self, consultation_id: int, *, batch: int = 500) -> AsyncIterator[CommentInfo]:
        """Every comment, streamed in keyset-paginated batches (for CSV export and analysis)."""
        last = 0
        while True:
            async with self.read() as s:
                page = await _comment_page(s, consultation_id, after_id=last, offset=0, limit=batch)
            for item in page:
                yield item
            if len(page) < batch:
                return
            last = page[-1].id

    async def choice_counts(self, consultation_id: int) -> dict[str, int]:
        async with self.read() as s:
            rows = await s.execute(select(Comment.choice, func.count()).where(
                Comment.consultation_id == consultation_id, Comment.choice.is_not(None)).group_by(Comment.choice))
            return {str(c): int(n) for c, n in rows}


# --- helpers ----------------------------------------------------------------------------


async def area_ids_for_codes(s: AsyncSession, codes: Sequence[str]) -> list[int]:
    """Area ids for `codes`, a province code bringing all of its communes."""
    if not codes:
        return []
    direct = select(Area.id).where(Area.code.in_(list(codes)))
    rows = await s.scalars(select(Area.id).where(or_(Area.id.in_(direct), Area.parent_id.in_(direct))))
    return sorted(set(rows))


async def _poll_info(s: AsyncSession, poll_id: int) -> PollInfo | None:
    poll = await s.get(Poll, poll_id)
    if poll is None:
        return None
    labels = await s.scalars(select(PollOption.label).where(PollOption.poll_id == poll_id)
                             .order_by(PollOption.position))
    return PollInfo.of(poll, list(labels))


async def _comment_page(s: AsyncSession, consultation_id: int, *, after_id: int | None, offset: int,
                        limit: int) -> list[CommentInfo]:
    voice = (select(func.count(Attachment.id)).where(Attachment.comment_id == Comment.id)
             .correlate(Comment).scalar_subquery())
    q = (select(Comment, Area.name, voice).outerjoin(Area, Area.id == Comment.area_id)
         .where(Comment.consultation_id == consultation_id).order_by(Comment.id).limit(limit))
    if after_id is not None:
        q = q.where(Comment.id > after_id)
    elif offset:
        q = q.offset(offset)
    rows = (await s.execute(q)).all()
    return [CommentInfo(id=c.id, consultation_id=c.consultation_id, citizen_id=c.citizen_id, area_id=c.area_id,
                        area_name=name, text=c.text, choice=c.choice, voice_count=int(n or 0),
                        created_at=c.created_at) for c, name, n in rows]


def participation_repo(store: Store) -> ParticipationRepo:
    """The repository over an open Store (cheap: shares its pool, clock and media)."""
    return ParticipationRepo(store.sessionmaker, store.clock, store.media)
