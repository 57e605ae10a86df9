"""Citizens and their channel identities (one person may write from Zalo and Telegram)."""

from __future__ import annotations

import enum
import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.errors import NotFound
from bot.store.base import Repo, is_unique_violation
from bot.store.models import ChannelIdentity, Citizen
from bot.store.phone import hash_phone, normalize_phone
from bot.store.views import CitizenInfo, IdentityInfo

log = logging.getLogger(__name__)

DEFAULT_PHONE_SALT = "tiengdan:phone:v1"
_CREATE_ATTEMPTS = 5


class Unset(enum.Enum):
    """Marks an argument that was not given (so `None` can mean "clear this field")."""

    UNSET = enum.auto()


UNSET = Unset.UNSET


# Interaction times are refreshed at most this often; Zalo's windows count in hours and days.
TOUCH_INTERVAL = timedelta(seconds=60)


class CitizenRepo(Repo):
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        phone_salt: str = DEFAULT_PHONE_SALT,
    ) -> None:
        super().__init__(sessionmaker, clock)
        self._phone_salt = phone_salt

    async def get_or_create(
        self,
        channel: str,
        channel_user_id: str,
        *,
        display_name: str | None = None,
        locale: str | None = None,
    ) -> CitizenInfo:
        """The citizen behind a channel account, created on first contact.

        Touches the identity's interaction time (and clears `unreachable_at`: they wrote to us)
        and the citizen's `last_seen_at`. Concurrent first messages create one citizen: the
        loser of the unique (channel, user id) race retries and finds the winner's row.
        `locale` is used only when creating; a stored choice is never overridden.
        """
        async with self.read() as s:  # fast path: a busy conversation needs no write per message
            citizen = await s.scalar(
                select(Citizen).join(ChannelIdentity, ChannelIdentity.citizen_id == Citizen.id).where(
                    ChannelIdentity.channel == channel, ChannelIdentity.channel_user_id == channel_user_id))
            key = (channel, channel_user_id)
            ident = None if citizen is None else next(
                (i for i in citizen.identities if (i.channel, i.channel_user_id) == key), None)
            if (
                citizen is not None
                and ident is not None
                and ident.unreachable_at is None
                and ident.last_interaction_at is not None
                and self.clock.now() - ident.last_interaction_at < TOUCH_INTERVAL
                and (not display_name or ident.display_name == display_name)
            ):
                return CitizenInfo.of(citizen)
        for attempt in range(_CREATE_ATTEMPTS):
            try:
                async with self.session() as s:
                    now = self.clock.now()
                    ident = await _identity(s, channel, channel_user_id)
                    if ident is not None:
                        citizen = await s.get_one(Citizen, ident.citizen_id)
                        ident.last_interaction_at = now
                        ident.unreachable_at = None
                        if display_name and ident.display_name != display_name:
                            ident.display_name = display_name
                        if display_name and not citizen.display_name:
                            citizen.display_name = display_name
                        citizen.last_seen_at = now
                    else:
                        citizen = Citizen(
                            locale=locale or "vi",
                            display_name=display_name,
                            anonymous=False,
                            phone_verified=False,
                            created_at=now,
                            last_seen_at=now,
                        )
                        s.add(citizen)
                        await s.flush()
                        s.add(
                            ChannelIdentity(
                                citizen_id=citizen.id,
                                channel=channel,
                                channel_user_id=channel_user_id,
                                display_name=display_name,
                                created_at=now,
                                last_interaction_at=now,
                            )
                        )
                        log.info("new citizen id=%s channel=%s", citizen.id, channel)
                    await s.flush()
                    return await _info(s, citizen)
            except IntegrityError as exc:
                if not is_unique_violation(exc) or attempt == _CREATE_ATTEMPTS - 1:
                    raise
                log.debug("get_or_create race on %s, retrying", channel)
        raise AssertionError("unreachable")

    async def get(self, citizen_id: int) -> CitizenInfo | None:
        async with self.read() as s:
            citizen = await s.get(Citizen, citizen_id)
            return None if citizen is None else await _info(s, citizen)

    async def update(
        self,
        citizen_id: int,
        *,
        locale: str | Unset = UNSET,
        home_area_id: int | Unset | None = UNSET,
        anonymous: bool | Unset = UNSET,
        display_name: str | Unset | None = UNSET,
    ) -> CitizenInfo:
        """Change only the fields given. Raises NotFound for an unknown citizen."""
        async with self.session() as s:
            citizen = await _citizen(s, citizen_id)
            if not isinstance(locale, Unset):
                citizen.locale = locale
            if not isinstance(home_area_id, Unset):
                citizen.home_area_id = home_area_id
            if not isinstance(anonymous, Unset):
                citizen.anonymous = anonymous
            if not isinstance(display_name, Unset):
                citizen.display_name = display_name
            await s.flush()
            return await _info(s, citizen)

    async def record_consent(self, citizen_id: int, version: str) -> CitizenInfo:
        """The citizen accepted privacy policy `version` now."""
        async with self.session() as s:
            citizen = await _citizen(s, citizen_id)
            citizen.consent_version = version
            citizen.consent_at = self.clock.now()
            await s.flush()
            return await _info(s, citizen)

    def phone_hash(self, phone: str) -> str:
        """The salted hash stored for `phone` (raises InvalidInput("phone.invalid"))."""
        return hash_phone(normalize_phone(phone), self._phone_salt)

    async def set_verified_phone(self, citizen_id: int, phone: str) -> CitizenInfo:
        """Record a platform-verified phone as its salted hash only (InvalidInput if malformed)."""
        digest = self.phone_hash(phone)
        async with self.session() as s:
            citizen = await _citizen(s, citizen_id)
            citizen.phone_hash = digest
            citizen.phone_verified = True
            await s.flush()
            return await _info(s, citizen)

    async def find_by_phone(self, phone: str, *, exclude_citizen_id: int | None = None) -> CitizenInfo | None:
        """The oldest citizen with this verified phone (e.g. the same person on another channel)."""
        digest = self.phone_hash(phone)
        async with self.read() as s:
            query = select(Citizen).where(Citizen.phone_hash == digest, Citizen.phone_verified.is_(True))
            if exclude_citizen_id is not None:
                query = query.where(Citizen.id != exclude_citizen_id)
            citizen = await s.scalar(query.order_by(Citizen.id).limit(1))
            return None if citizen is None else await _info(s, citizen)

    async def identities(self, citizen_id: int) -> list[IdentityInfo]:
        async with self.read() as s:
            rows = await s.scalars(
                select(ChannelIdentity)
                .where(ChannelIdentity.citizen_id == citizen_id)
                .order_by(ChannelIdentity.id)
            )
            return [IdentityInfo.of(r) for r in rows]

    async def identity_for(self, channel: str, channel_user_id: str) -> IdentityInfo | None:
        async with self.read() as s:
            ident = await _identity(s, channel, channel_user_id)
            return None if ident is None else IdentityInfo.of(ident)

    async def touch_identity(self, channel: str, channel_user_id: str) -> bool:
        """Note an interaction (opens Zalo's reply window again). False if the identity is unknown."""
        async with self.session() as s:
            ident = await _identity(s, channel, channel_user_id)
            if ident is None:
                return False
            now = self.clock.now()
            ident.last_interaction_at = now
            ident.unreachable_at = None
            citizen = await s.get_one(Citizen, ident.citizen_id)
            citizen.last_seen_at = now
            return True

    async def mark_unreachable(self, channel: str, channel_user_id: str) -> bool:
        """The user unfollowed or blocked the bot: send nothing more. False if unknown."""
        async with self.session() as s:
            ident = await _identity(s, channel, channel_user_id)
            if ident is None:
                return False
            if ident.unreachable_at is None:
                ident.unreachable_at = self.clock.now()
            return True

    async def link_identity(self, citizen_id: int, channel: str, channel_user_id: str) -> IdentityInfo:
        """Attach a channel account to `citizen_id`, moving it from another citizen if needed."""
        for attempt in range(_CREATE_ATTEMPTS):
            try:
                async with self.session() as s:
                    await _citizen(s, citizen_id)
                    ident = await _identity(s, channel, channel_user_id)
                    if ident is None:
                        ident = ChannelIdentity(
                            citizen_id=citizen_id,
                            channel=channel,
                            channel_user_id=channel_user_id,
                            created_at=self.clock.now(),
                        )
                        s.add(ident)
                    elif ident.citizen_id != citizen_id:
                        log.info("identity %s moved citizen %s → %s", ident.id, ident.citizen_id, citizen_id)
                        ident.citizen_id = citizen_id
                    await s.flush()
                    return IdentityInfo.of(ident)
            except IntegrityError as exc:
                if not is_unique_violation(exc) or attempt == _CREATE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")


async def _identity(s: AsyncSession, channel: str, channel_user_id: str) -> ChannelIdentity | None:
    return await s.scalar(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == channel, ChannelIdentity.channel_user_id == channel_user_id
        )
    )


async def _citizen(s: AsyncSession, citizen_id: int) -> Citizen:
    citizen = await s.get(Citizen, citizen_id)
    if citizen is None:
        raise NotFound(f"citizen {citizen_id}")
    return citizen


async def _info(s: AsyncSession, citizen: Citizen) -> CitizenInfo:
    idents = list(await s.scalars(select(ChannelIdentity).where(ChannelIdentity.citizen_id == citizen.id)))
    return CitizenInfo.of(citizen, idents)
