"""Zalo's interaction window and broadcast quota, asked before every proactive send.

Consultation messages are free within 48 h of the user's last interaction, paid from 48 h to
7 days (allowed for notifications, not for broadcasts, by default) and refused after that.
A verified OA may send each follower at most N broadcasts a month (default 4) and one a day;
we count our own `Delivery` rows that were sent. Month and day follow the local time zone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels import Admission, SendKind
from bot.store.citizens import CitizenRepo
from bot.store.models import Delivery

FREE_WINDOW = timedelta(hours=48)
PAID_WINDOW = timedelta(days=7)
CHANNEL = "zalo"


class WindowPolicy:
    def __init__(self, citizens: CitizenRepo, sessionmaker: async_sessionmaker[AsyncSession], *,
                 timezone: str, broadcasts_per_month: int, paid_notifications: bool,
                 paid_broadcasts: bool, broadcasts_per_day: int = 1) -> None:
        self._citizens = citizens
        self._sessionmaker = sessionmaker
        self._tz = ZoneInfo(timezone)
        self._per_month = broadcasts_per_month
        self._per_day = broadcasts_per_day
        self._paid = {"reply": paid_notifications, "notification": paid_notifications,
                      "broadcast": paid_broadcasts}

    async def admit(self, user_id: str, kind: SendKind, now: datetime) -> Admission:
        ident = await self._citizens.identity_for(CHANNEL, user_id)
        if ident is None:
            return Admission(False, "window_closed", reason="never interacted")
        if ident.unreachable_at is not None:
            return Admission(False, "unreachable", reason="unfollowed")
        last = ident.last_interaction_at
        age = now - last if last is not None else None
        if age is None or age > PAID_WINDOW:
            return Admission(False, "window_closed", reason="no interaction in 7 days")
        if age > FREE_WINDOW and not self._paid[kind]:
            return Admission(False, "window_closed", reason="free 48 h window over")
        if kind == "broadcast":
            return await self._quota(user_id, now)
        return Admission(True)

    async def _quota(self, user_id: str, now: datetime) -> Admission:
        local = now.astimezone(self._tz)
        month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        next_month = (month_start + timedelta(days=32)).replace(day=1)
        day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        next_day = (day_start + timedelta(days=1)).replace(hour=0)
        this_month = await self._sent_since(user_id, month_start)
        if this_month >= self._per_month:
            return Admission(False, "quota", retry_at=_utc(next_month), reason="monthly broadcast quota")
        if self._per_day and await self._sent_since(user_id, day_start) >= self._per_day:
            return Admission(False, "defer", retry_at=_utc(next_day), reason="one broadcast a day")
        return Admission(True)

    async def _sent_since(self, user_id: str, since: datetime) -> int:
        async with self._sessionmaker() as s:
            count = await s.scalar(
                select(func.count(Delivery.id)).where(
                    Delivery.channel == CHANNEL,
                    Delivery.channel_user_id == user_id,
                    Delivery.kind == "broadcast",
                    Delivery.status == "sent",
                    Delivery.sent_at >= _utc(since),
                )
            )
            return int(count or 0)


def _utc(local: datetime) -> datetime:
    return local.astimezone(UTC)
