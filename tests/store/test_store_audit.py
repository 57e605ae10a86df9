"""The audit log, on SQLite and PostgreSQL."""

from __future__ import annotations

from bot.clock import FixedClock
from bot.store import Store


async def test_actions_are_recorded_and_found_by_target(store: Store, clock: FixedClock) -> None:
    first = await store.audit.record(
        official_id=None,
        channel="telegram",
        channel_user_id="99",
        action="case.status",
        target="12345678",
        allowed=False,
        detail={"reason": "not_in_jurisdiction"},
    )
    clock.advance(minutes=1)
    await store.audit.record(
        official_id=None, channel="zalo", channel_user_id="z9", action="broadcast.send", target="b-1", allowed=True
    )
    clock.advance(minutes=1)
    third = await store.audit.record(
        official_id=None,
        channel="telegram",
        channel_user_id="99",
        action="case.reply",
        target="12345678",
        allowed=True,
    )

    about = await store.audit.for_target("12345678")
    assert [(a.action, a.allowed) for a in about] == [("case.status", False), ("case.reply", True)]
    assert about[0] == first and first.detail == {"reason": "not_in_jurisdiction"}
    assert about[1].created_at == clock.now()
    recent = await store.audit.recent(2)
    assert [a.id for a in recent] == [third.id, third.id - 1]
    assert await store.audit.for_target("nothing") == []
