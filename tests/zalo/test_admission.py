"""The interaction window and the broadcast quota, on a controllable clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.channels import Admission, AdmissionPolicy
from bot.errors import PermanentSendError, RetryLater, WindowClosed
from bot.messages import Outbound
from bot.store import Store
from bot.store.models import Delivery
from tests.zalo.conftest import Zalo, ZaloFactory


async def add_sent_broadcasts(store: Store, user_id: str, when: list[datetime]) -> None:
    async with store.sessionmaker() as s, s.begin():
        for i, sent_at in enumerate(when):
            s.add(Delivery(kind="broadcast", channel="zalo", channel_user_id=user_id, status="sent",
                           attempts=1, next_attempt_at=sent_at, created_at=sent_at, sent_at=sent_at,
                           dedupe_key=f"b{sent_at.isoformat()}:{i}:{user_id}"))


async def test_window(zalo: Zalo) -> None:
    channel = zalo.runtime.channel
    assert isinstance(channel, AdmissionPolicy)
    now = zalo.clock.now
    assert await channel.admit("stranger", "notification", now()) == Admission(
        False, "window_closed", reason="never interacted")
    await zalo.user("w1").say("xin chào")
    zalo.clock.advance(hours=47)
    assert (await channel.admit("w1", "notification", now())).allowed
    assert (await channel.admit("w1", "broadcast", now())).allowed
    zalo.clock.advance(hours=2)  # 49 h: paid window
    assert (await channel.admit("w1", "notification", now())).allowed
    assert (await channel.admit("w1", "broadcast", now())).status == "window_closed"
    zalo.clock.advance(days=6)  # > 7 days
    for kind in ("reply", "notification", "broadcast"):
        verdict = await channel.admit("w1", kind, now())  # type: ignore[arg-type]
        assert (verdict.allowed, verdict.status) == (False, "window_closed")
    await zalo.user("w1").say("tôi quay lại")  # any interaction reopens it
    assert (await channel.admit("w1", "notification", now())).allowed


async def test_paid_window_is_configurable(make_zalo: ZaloFactory) -> None:
    z = await make_zalo(zalo_paid_notifications=False, zalo_paid_broadcasts=True)
    await z.user("p1").say("xin chào")
    z.clock.advance(hours=50)
    channel = z.runtime.channel
    assert (await channel.admit("p1", "notification", z.clock.now())).status == "window_closed"
    assert (await channel.admit("p1", "broadcast", z.clock.now())).allowed


async def test_monthly_and_daily_broadcast_quota(zalo: Zalo, store: Store) -> None:
    zalo.clock.set(datetime(2026, 3, 20, 3, 0, tzinfo=UTC))  # 10:00 in Hà Nội
    await zalo.user("q1").say("xin chào")
    channel = zalo.runtime.channel
    now = zalo.clock.now()
    # last month's and other users' broadcasts do not count; February ended 16:59 UTC on the 28th
    await add_sent_broadcasts(store, "q1", [datetime(2026, 2, 28, 16, 0, tzinfo=UTC)])
    await add_sent_broadcasts(store, "other", [datetime(2026, 3, d, tzinfo=UTC) for d in (2, 3, 4, 5)])
    assert (await channel.admit("q1", "broadcast", now)).allowed
    await add_sent_broadcasts(store, "q1", [datetime(2026, 3, 19, 3, 0, tzinfo=UTC)])
    await add_sent_broadcasts(store, "q1", [datetime(2026, 3, 20, 1, 0, tzinfo=UTC)])  # today, local
    verdict = await channel.admit("q1", "broadcast", now)
    assert (verdict.allowed, verdict.status) == (False, "defer")
    assert verdict.retry_at == datetime(2026, 3, 20, 17, 0, tzinfo=UTC)  # local midnight
    assert (await channel.admit("q1", "notification", now)).allowed  # quota is for broadcasts only
    await add_sent_broadcasts(store, "q1", [datetime(2026, 3, d, tzinfo=UTC) for d in (10, 11)])
    verdict = await channel.admit("q1", "broadcast", now)
    assert (verdict.allowed, verdict.status) == (False, "quota")
    assert verdict.retry_at == datetime(2026, 3, 31, 17, 0, tzinfo=UTC)  # 1 April 00:00 in Vietnam


async def test_quota_setting(make_zalo: ZaloFactory, store: Store) -> None:
    z = await make_zalo(zalo_broadcasts_per_month=1)
    await z.user("q2").say("xin chào")
    await add_sent_broadcasts(store, "q2", [z.clock.now().replace(day=1, hour=1)])
    assert (await z.runtime.channel.admit("q2", "broadcast", z.clock.now())).status == "quota"


async def test_unfollow_makes_user_unreachable(zalo: Zalo, store: Store) -> None:
    u = zalo.user("gone")
    await u.say("xin chào")
    sent_before = len(zalo.fake.sends())
    status = await zalo.post(zalo.events.follow("gone", name="unfollow"))
    assert status == 200 and len(zalo.fake.sends()) == sent_before  # nothing sent to them
    ident = await store.citizens.identity_for("zalo", "gone")
    assert ident is not None and ident.unreachable_at == zalo.clock.now()
    verdict = await zalo.runtime.channel.admit("gone", "notification", zalo.clock.now())
    assert (verdict.allowed, verdict.status) == (False, "unreachable")
    await u.follow()  # they come back: greeted, reachable again
    assert u.last and (await store.citizens.identity_for("zalo", "gone")).unreachable_at is None  # type: ignore[union-attr]


async def test_unfollow_of_unknown_user_creates_nothing(zalo: Zalo, store: Store) -> None:
    assert await zalo.post(zalo.events.follow("nobody", name="unfollow")) == 200
    assert await store.citizens.identity_for("zalo", "nobody") is None


@pytest.mark.parametrize(("code", "error"), [(-230, WindowClosed), (-32, RetryLater), (-201, PermanentSendError)])
async def test_api_errors_on_http_200(zalo: Zalo, code: int, error: type[Exception]) -> None:
    zalo.fake.fail_next_sends(code)
    with pytest.raises(error):
        await zalo.runtime.channel.send("e1", [Outbound("Thông báo")])
    registry = zalo.runtime.intake.metrics.registry
    assert registry.get_sample_value("tiengdan_zalo_api_errors_total", {"code": str(code)}) == 1
    assert registry.get_sample_value("tiengdan_zalo_window_closed_total") == (1 if code == -230 else 0)
    if code == -32:
        with pytest.raises(RetryLater) as info:
            zalo.fake.fail_next_sends(code)
            await zalo.runtime.channel.send("e1", [Outbound("Thông báo")])
        assert info.value.retry_after == 60
