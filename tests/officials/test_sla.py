"""Deadlines in working hours, escalation to the province once, and the daily digest."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot import sla
from bot.clock import FixedClock
from bot.config import Settings
from bot.context import AppContext
from bot.engine import Engine
from bot.outbox.worker import OutboxWorker
from bot.store import Store
from tests.harness import Chat
from tests.officials.conftest import HUE, THUAN_HOA, channel, deliveries, new_case

VN = sla.WorkingCalendar("Asia/Ho_Chi_Minh")


def local(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=VN.tz)


def test_working_hours_skip_lunch_nights_weekends() -> None:
    # Monday 09:00 + 8 h: 2.5 h morning, 4 h afternoon, then Tuesday 07:30 + 1.5 h.
    assert VN.add_working_hours(local(2026, 1, 5, 9, 0), 8) == local(2026, 1, 6, 9, 0)
    # Friday 16:00 + 8 h → Monday 16:00.
    assert VN.add_working_hours(local(2026, 1, 9, 16, 0), 8) == local(2026, 1, 12, 16, 0)
    # Saturday night counts from Monday 07:30.
    assert VN.add_working_hours(local(2026, 1, 10, 22, 0), 1) == local(2026, 1, 12, 8, 30)
    # Lunch is not working time.
    assert VN.add_working_hours(local(2026, 1, 5, 11, 0), 1) == local(2026, 1, 5, 13, 30)


def test_public_holidays_are_skipped() -> None:
    # 30/4 (Thursday) and 1/5 (Friday) 2026 are holidays: Wednesday 16:00 + 8 h → Monday 4/5 16:00.
    assert VN.add_working_hours(local(2026, 4, 29, 16, 0), 8) == local(2026, 5, 4, 16, 0)
    assert not VN.is_working_day(local(2026, 9, 2, 12, 0).date())  # National Day


def test_due_times_normal_urgent_and_per_category() -> None:
    now = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)  # Monday 09:00 in Vietnam
    settings = Settings(sla_category_resolve_hours={"health": 16.0})
    ack, due = sla.due_times(settings, now, "traffic_roads")
    assert ack == local(2026, 1, 6, 9, 0)
    assert due > ack
    _, health_due = sla.due_times(settings, now, "health")
    assert health_due == local(2026, 1, 7, 9, 0)
    urgent_ack, urgent_due = sla.due_times(settings, now, "health", "urgent")
    assert (urgent_ack - now).total_seconds() == 3600 and (urgent_due - now).total_seconds() == 4 * 3600


async def test_due_time_shown_at_filing(engine: Engine, store: Store) -> None:
    from tests.officials.test_lifecycle import file_pothole

    chat = Chat(engine, "web", "due")
    await file_pothole(chat)
    assert "06/01/2026" in chat.last_text or "6/1/26" in chat.last_text or "09:00" in chat.last_text


async def test_overdue_escalates_to_province_once(ctx: AppContext, store: Store, clock: FixedClock) -> None:
    case = await new_case(store)
    await store.officials.add(channel="telegram", channel_user_id="commune", role="official", unit="Phường",
                              area_codes=[THUAN_HOA])
    await store.officials.add(channel="telegram", channel_user_id="province", role="official", unit="Tỉnh",
                              area_codes=[HUE])
    await store.officials.add(channel="telegram", channel_user_id="front", role="front", unit="MTTQ",
                              area_codes=[HUE])
    assert await sla.escalate_overdue(ctx) == 0
    clock.set(case.ack_due_at.replace(minute=1) if case.ack_due_at else clock.now())  # type: ignore[union-attr]
    results = await asyncio.gather(sla.escalate_overdue(ctx), sla.escalate_overdue(ctx))
    assert sum(results) == 1
    assert await sla.escalate_overdue(ctx) == 0
    escalated = await store.cases.get(case.id)
    assert escalated is not None and escalated.escalated_at is not None
    rows = await deliveries(store)
    assert [(r.kind, r.channel_user_id) for r in rows] == [("official_notice", "province")]
    await OutboxWorker(ctx, worker_id="w").run_once()
    [text] = channel(ctx, "telegram").texts("province")
    assert case.display_code in text and "Quá hạn" in text

    # the province official sees it first in /overdue, with the overdue mark
    chat = Chat(ctx_engine(ctx), "telegram", "province")
    await chat.say("/overdue")
    assert "1 phản ánh quá hạn" in chat.last_text and "⚠️" in chat.labels()[0]


def ctx_engine(ctx: AppContext) -> Engine:
    from tests.harness import make_engine

    return make_engine(ctx)


async def test_acknowledged_case_is_not_overdue_until_resolution_due(ctx: AppContext, store: Store,
                                                                     clock: FixedClock) -> None:
    case = await new_case(store)
    await store.cases.acknowledge(case.id, official_id=1)
    clock.advance(days=2)
    assert await sla.escalate_overdue(ctx) == 0
    clock.advance(days=30)
    assert await sla.escalate_overdue(ctx) == 1


async def test_daily_digest_once_per_working_day(ctx: AppContext, store: Store, clock: FixedClock) -> None:
    await new_case(store)
    await store.officials.add(channel="telegram", channel_user_id="o", role="official", unit="Phường",
                              area_codes=[THUAN_HOA])
    await store.officials.add(channel="telegram", channel_user_id="far", role="official", unit="Hà Nội",
                              area_codes=["01"])
    clock.set(local(2026, 1, 6, 7, 0).astimezone(UTC))
    assert await sla.send_digests(ctx) == 0  # before 07:30
    clock.set(local(2026, 1, 6, 7, 35).astimezone(UTC))
    assert await sla.send_digests(ctx) == 1  # the Hà Nội official has nothing open
    assert await sla.send_digests(ctx) == 0
    clock.set(local(2026, 1, 10, 8, 0).astimezone(UTC))  # Saturday
    assert await sla.send_digests(ctx) == 0
    await OutboxWorker(ctx, worker_id="w").run_once()
    [text] = channel(ctx, "telegram").texts("o")
    assert "1 phản ánh đang mở, 0 quá hạn" in text  # acknowledge-by is 09:00 today


async def test_priority_urgent_sets_four_hour_deadline(engine: Engine, store: Store, clock: FixedClock) -> None:
    case = await new_case(store, category="public_order")
    await store.officials.add(channel="telegram", channel_user_id="o", role="official", unit="U", area_codes=[HUE])
    chat = Chat(engine, "telegram", "o")
    await chat.say(f"/priority {case.code} urgent")
    updated = await store.cases.get(case.id)
    assert updated is not None and updated.priority == "urgent"
    assert updated.due_at is not None and (updated.due_at - case.created_at).total_seconds() == 4 * 3600


async def test_resolved_case_without_answer_closes_after_a_week(ctx: AppContext, store: Store,
                                                                clock: FixedClock) -> None:
    case = await new_case(store, user="silent")
    official = await store.officials.add(channel="telegram", channel_user_id="o", role="official", unit="Phường",
                                         area_codes=[THUAN_HOA])
    await store.cases.set_status(case.id, "resolved", official_id=official.id, note="Đã vá xong")
    clock.advance(days=6)
    assert await sla.close_unanswered(ctx) == 0
    clock.advance(days=2)
    results = await asyncio.gather(sla.close_unanswered(ctx), sla.close_unanswered(ctx))
    assert sum(results) == 1
    closed = await store.cases.get(case.id)
    assert closed is not None and closed.status == "closed" and closed.closed_at == clock.now()
    await OutboxWorker(ctx, worker_id="w").run_once()
    texts = channel(ctx, "web").texts()
    assert any("đã đóng" in t and case.display_code in t for t in texts)
