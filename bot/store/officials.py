"""Officials, their one-time invites, and audit rows written inside a caller's transaction.

An official is identified by a channel identity (the numeric channel user id, never a
username) and acts for a unit within a jurisdiction: area codes (a province covers its
communes) and categories; an empty list means "all". Removing an official deactivates the
row, so the audit log keeps pointing at who did what.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import InvalidInput, NotFound
from bot.store.areas import AreaRepo
from bot.store.audit import add_audit
from bot.store.base import Repo, is_unique_violation
from bot.store.caseflow import CaseChange, ChangeHook
from bot.store.models import Invite, Official
from bot.store.views import CaseInfo

log = logging.getLogger(__name__)

ROLES = ("admin", "official", "front", "moderator")
INVITE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud, typed on a phone
INVITE_LENGTH = 8
DEFAULT_INVITE_HOURS = 72


@dataclass(frozen=True, slots=True)
class OfficialInfo:
    id: int
    channel: str
    channel_user_id: str
    role: str
    unit: str
    display_name: str | None
    area_codes: tuple[str, ...]
    categories: tuple[str, ...]
    locale: str
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, row: Official) -> OfficialInfo:
        return cls(
            id=row.id,
            channel=row.channel,
            channel_user_id=row.channel_user_id,
            role=row.role,
            unit=row.unit,
            display_name=row.display_name,
            area_codes=tuple(str(c) for c in row.area_codes or ()),
            categories=tuple(str(c) for c in row.categories or ()),
            locale=row.locale,
            active=row.active,
            created_at=row.created_at,
        )


@dataclass(frozen=True, slots=True)
class InviteInfo:
    id: int
    code: str
    role: str
    unit: str
    area_codes: tuple[str, ...]
    categories: tuple[str, ...]
    created_by: int | None
    expires_at: datetime
    used_by: int | None

    @classmethod
    def of(cls, row: Invite) -> InviteInfo:
        return cls(
            id=row.id,
            code=row.code,
            role=row.role,
            unit=row.unit,
            area_codes=tuple(row.area_codes or ()),
            categories=tuple(row.categories or ()),
            created_by=row.created_by,
            expires_at=row.expires_at,
            used_by=row.used_by,
        )


class InviteUnusable(InvalidInput):
    """An invite code that is unknown, used already or expired (the reason is the message)."""


def normalize_invite(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def audit_hook(official: OfficialInfo, action: str, detail: dict[str, Any] | None = None) -> ChangeHook:
    """A case-change hook that records `action` by `official` in the change's transaction."""

    async def hook(s: AsyncSession, change: CaseChange) -> None:
        add_audit(
            s,
            now=change.at,
            official_id=official.id,
            channel=official.channel,
            channel_user_id=official.channel_user_id,
            action=action,
            target=change.case.code,
            allowed=True,
            detail={"status": change.case.status, **(detail or {})},
        )

    return hook


class OfficialRepo(Repo):
    async def add(
        self,
        *,
        channel: str,
        channel_user_id: str,
        role: str,
        unit: str,
        area_codes: Sequence[str] = (),
        categories: Sequence[str] = (),
        display_name: str | None = None,
        locale: str = "vi",
    ) -> OfficialInfo:
        """Create the official, or update and reactivate the one with this channel identity."""
        if role not in ROLES:
            raise InvalidInput(f"role {role!r}")
        if not channel_user_id.strip() or not unit.strip():
            raise InvalidInput("channel user id and unit are required")
        for attempt in range(3):
            try:
                async with self.session() as s:
                    row = await s.scalar(
                        select(Official).where(
                            Official.channel == channel, Official.channel_user_id == channel_user_id
                        )
                    )
                    if row is None:
                        row = Official(channel=channel, channel_user_id=channel_user_id,
                                       created_at=self.clock.now())
                        s.add(row)
                    row.role, row.unit = role, unit.strip()
                    row.area_codes, row.categories = list(area_codes), list(categories)
                    row.display_name = display_name or row.display_name
                    row.locale, row.active = locale, True
                    await s.flush()
                    return OfficialInfo.of(row)
            except IntegrityError as exc:
                if not is_unique_violation(exc) or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def get(self, official_id: int) -> OfficialInfo | None:
        async with self.read() as s:
            row = await s.get(Official, official_id)
            return None if row is None else OfficialInfo.of(row)

    async def by_identity(self, channel: str, channel_user_id: str) -> OfficialInfo | None:
        """The active official behind a channel account, or None."""
        async with self.read() as s:
            row = await s.scalar(
                select(Official).where(
                    Official.channel == channel,
                    Official.channel_user_id == channel_user_id,
                    Official.active.is_(True),
                )
            )
            return None if row is None else OfficialInfo.of(row)

    async def list(self, *, active_only: bool = True) -> list[OfficialInfo]:
        async with self.read() as s:
            query = select(Official).order_by(Official.id)
            if active_only:
                query = query.where(Official.active.is_(True))
            return [OfficialInfo.of(r) for r in await s.scalars(query)]

    async def remove(self, channel: str, channel_user_id: str) -> bool:
        """Deactivate; False when there was no active official with this identity."""
        async with self.session() as s:
            result = await s.execute(
                update(Official)
                .where(Official.channel == channel, Official.channel_user_id == channel_user_id,
                       Official.active.is_(True))
                .values(active=False)
            )
            return bool(getattr(result, "rowcount", 0))

    async def set_locale(self, official_id: int, locale: str) -> None:
        async with self.session() as s:
            await s.execute(update(Official).where(Official.id == official_id).values(locale=locale))

    # --- invites -----------------------------------------------------------------------------

    async def create_invite(
        self,
        *,
        created_by: int | None,
        role: str,
        unit: str,
        area_codes: Sequence[str] = (),
        categories: Sequence[str] = (),
        valid_hours: float = DEFAULT_INVITE_HOURS,
    ) -> InviteInfo:
        if role not in ROLES:
            raise InvalidInput(f"role {role!r}")
        for attempt in range(10):
            code = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))
            try:
                async with self.session() as s:
                    now = self.clock.now()
                    row = Invite(code=code, role=role, unit=unit, area_codes=list(area_codes),
                                 categories=list(categories), created_by=created_by,
                                 expires_at=now + timedelta(hours=valid_hours), created_at=now)
                    s.add(row)
                    await s.flush()
                    return InviteInfo.of(row)
            except IntegrityError as exc:
                if not is_unique_violation(exc) or attempt == 9:
                    raise
        raise AssertionError("unreachable")

    async def redeem_invite(
        self, code: str, *, channel: str, channel_user_id: str, display_name: str | None = None,
        locale: str = "vi",
    ) -> tuple[OfficialInfo, InviteInfo]:
        """Use a one-time code: the sender becomes an official. Exactly one redeemer wins a race."""
        normal = normalize_invite(code)
        async with self.session() as s:
            now = self.clock.now()
            invite = await s.scalar(select(Invite).where(Invite.code == normal))
            if invite is None:
                raise InviteUnusable("unknown")
            if invite.used_by is not None:
                raise InviteUnusable("used")
            if invite.expires_at <= now:
                raise InviteUnusable("expired")
            row = await s.scalar(
                select(Official).where(Official.channel == channel, Official.channel_user_id == channel_user_id)
            )
            if row is None:
                row = Official(channel=channel, channel_user_id=channel_user_id, created_at=now)
                s.add(row)
            row.role, row.unit = invite.role, invite.unit
            row.area_codes, row.categories = list(invite.area_codes), list(invite.categories)
            row.display_name = display_name or row.display_name
            row.locale, row.active = locale, True
            await s.flush()
            claimed = await s.execute(
                update(Invite)
                .where(Invite.id == invite.id, Invite.used_by.is_(None))
                .values(used_by=row.id, used_at=now)
            )
            if not getattr(claimed, "rowcount", 0):
                raise InviteUnusable("used")  # rolls the official back too
            await s.refresh(invite)
            log.info("invite redeemed invite=%s official=%s role=%s", invite.id, row.id, row.role)
            return OfficialInfo.of(row), InviteInfo.of(invite)

    async def get_invite(self, code: str) -> InviteInfo:
        async with self.read() as s:
            row = await s.scalar(select(Invite).where(Invite.code == normalize_invite(code)))
            if row is None:
                raise NotFound(f"invite {code}")
            return InviteInfo.of(row)


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    """Where and on what an official may act; None means "no restriction"."""

    area_ids: frozenset[int] | None
    categories: frozenset[str] | None

    def covers_area(self, area_id: int | None) -> bool:
        return self.area_ids is None or (area_id is not None and area_id in self.area_ids)

    def covers(self, case: CaseInfo) -> bool:
        return self.covers_area(case.area_id) and (self.categories is None or case.category in self.categories)


async def jurisdiction_of(areas: AreaRepo, official: OfficialInfo) -> Jurisdiction:
    """Expand the official's area codes (a province covers its communes). Unknown codes cover nothing."""
    area_ids: set[int] | None = None
    if official.area_codes:
        area_ids = set()
        for code in official.area_codes:
            area = await areas.by_code(code)
            if area is not None:
                area_ids |= await areas.descendants_ids(area.id)
    return Jurisdiction(
        area_ids=None if area_ids is None else frozenset(area_ids),
        categories=frozenset(official.categories) if official.categories else None,
    )
