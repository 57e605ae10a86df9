"""Fixtures for participation: an engine with every dialog, officials, citizens with a home commune."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert

from bot.store import AreaInfo, Store
from bot.store.models import ChannelIdentity, Citizen, Official, Subscription
from tests.dialogs.conftest import ctx, engine  # noqa: F401  (the same fixtures, registered here too)
from tests.harness import Chat


async def area(store: Store, name: str) -> AreaInfo:
    [(found, _)] = await store.areas.search(name, limit=1)
    return found


async def add_official(store: Store, channel: str, user_id: str, *, role: str = "front",
                       area_codes: Sequence[str] = ()) -> int:
    async with store.sessionmaker() as s, s.begin():
        row = Official(channel=channel, channel_user_id=user_id, role=role, unit="MTTQ",
                       area_codes=list(area_codes), categories=[], locale="vi", active=True,
                       created_at=store.clock.now())
        s.add(row)
        await s.flush()
        return row.id


async def onboard(chat: Chat, store: Store, home: AreaInfo | None) -> int:
    """Consent by buttons, skip the commune in onboarding, then set the home commune. Citizen id."""
    await chat.say("xin chào")
    await chat.tap("Tiếng Việt")
    await chat.tap("Đồng ý")
    await chat.tap("Bỏ qua")
    await chat.tap("Hiện tên")
    citizen = await store.citizens.get_or_create(chat.channel, chat.user_id)
    if home is not None:
        await store.citizens.update(citizen.id, home_area_id=home.id)
    return citizen.id


async def seed_subscribers(store: Store, area_id: int, count: int, *, first_user: int = 0,
                           channel: str = "telegram") -> list[int]:
    """`count` consenting citizens, one identity each, subscribed to `area_id`. Their ids."""
    now = store.clock.now()
    async with store.sessionmaker() as s, s.begin():
        ids = []
        for i in range(first_user, first_user + count):
            citizen = Citizen(locale="vi", created_at=now, consent_at=now, consent_version="t", home_area_id=area_id,
                              anonymous=False, phone_verified=False)
            s.add(citizen)
            await s.flush()
            ids.append(citizen.id)
            s.add(ChannelIdentity(citizen_id=citizen.id, channel=channel, channel_user_id=str(100000 + i),
                                  created_at=now))
        await s.execute(insert(Subscription), [
            {"citizen_id": cid, "area_id": area_id, "topic": "all", "active": True, "created_at": now} for cid in ids])
    return ids
