"""A commune asks which project comes first: the organiser builds the poll by chat, citizens vote
by button or number, may change their vote, cannot vote twice, elsewhere or after close, and
every voter gets the results for their commune."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.broadcasts.planner import BroadcastPlanner
from bot.broadcasts.render import BroadcastRenderer
from bot.clock import FixedClock
from bot.context import AppContext
from bot.engine import Engine
from bot.store import Store
from bot.store.broadcasts import broadcast_repo
from bot.store.models import Delivery, Vote, VoteChoice
from bot.store.participation import VoteRefused, participation_repo
from tests.harness import Chat
from tests.participation.conftest import add_official, area, onboard


async def _new_poll(front: Chat, *, where: str = "phuong vy da hue") -> None:
    await front.say("/poll new")
    assert "Câu hỏi" in front.last_text
    await front.say("Xã nên làm việc gì trước?")
    await front.say("Làm đường liên thôn")
    assert "phương án số 2" in front.last_text
    await front.say("Nhà vệ sinh trường học\nMáy bơm thủy lợi")  # several lines at once
    await front.tap("Xong phương án")
    assert "địa bàn nào" in front.last_text
    await front.say(where)
    assert "Địa bàn:" in front.last_text
    await front.tap("3 ngày")
    await front.tap("Chọn một")
    await front.tap("Không cần")
    assert "Máy bơm thủy lợi" in front.last_text and "Mở bình chọn" in front.last_text
    await front.tap("📣 Mở và báo")


async def test_poll_lifecycle(engine: Engine, store: Store, ctx: AppContext, clock: FixedClock) -> None:
    vy_da = await area(store, "phuong vy da hue")
    thuan_hoa = await area(store, "phuong thuan hoa hue")
    await add_official(store, "web", "front1", area_codes=[vy_da.code, thuan_hoa.code])
    front = Chat(engine, "web", "front1")
    alice, bob, carol = Chat(engine, "web", "alice"), Chat(engine, "telegram", "bob"), Chat(engine, "web", "carol")
    alice_id = await onboard(alice, store, vy_da)
    await onboard(bob, store, vy_da)
    await onboard(carol, store, thuan_hoa)
    await alice.tap("Nhận thông báo")  # subscribed: the announcement will reach her
    assert "Vỹ Dạ" in alice.last_text

    await _new_poll(front)
    assert "Đã mở cuộc bình chọn số 1" in front.last_text
    assert "đang được gửi tới 1 người" in front.last_text
    part = participation_repo(store)
    [poll] = await part.list_polls()
    assert poll.options == ("Làm đường liên thôn", "Nhà vệ sinh trường học", "Máy bơm thủy lợi")
    assert poll.area_codes == (vy_da.code,)

    # Alice votes from the broadcast's buttons (rendered as the outbox would), then changes it.
    rendered = await BroadcastRenderer()(ctx, _Delivery(1, alice_id))
    [message] = rendered
    assert "Mời bạn bình chọn" in message.text
    assert [b.payload for b in message.flat_buttons()][:3] == ["part:v:1:1", "part:v:1:2", "part:v:1:3"]
    await alice.press("part:v:1:3")
    assert "Đã ghi nhận phiếu của bạn: Máy bơm thủy lợi" in alice.last_text
    await alice.tap("Bình chọn")
    await alice.tap("Xã nên làm")
    assert "✅ 3. Máy bơm thủy lợi" in alice.labels()
    await alice.say("7")  # out of range: asked again, nothing stored
    assert "từ 1 đến" in alice.last_text
    await alice.say("1")  # by number
    assert "Đã đổi phiếu" in alice.last_text and "Làm đường liên thôn" in alice.last_text

    # Bob by menu and number; Carol lives elsewhere: not listed, and a forged/old button is refused.
    await bob.tap("Bình chọn")
    await bob.say("1")
    await bob.say("2")
    assert "Nhà vệ sinh trường học" in bob.last_text
    await carol.tap("Bình chọn")
    assert "chưa có cuộc bình chọn" in carol.last_text.lower()
    await carol.press("part:v:1:1")
    assert "địa phương khác" in carol.last_text

    async with store.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Vote)) == 2
        assert await s.scalar(select(func.count()).select_from(VoteChoice)) == 2

    # Results: text and a PNG chart for the organiser.
    await front.say("/poll results 1")
    [res] = front.last
    assert "2 người đã bình chọn" in res.text and "1. Làm đường liên thôn: 1 phiếu (50%)" in res.text
    assert res.image is not None and res.image.endswith(".png")

    # Close: a results broadcast to the two voters; late votes are refused.
    await front.say("/poll close 1")
    assert "Kết quả đang gửi tới 2 người" in front.last_text
    await bob.press("part:v:1:3")
    assert "đã kết thúc" in bob.last_text
    assert await part.my_vote(1, (await store.citizens.get_or_create("telegram", "bob")).id) == (2,)
    info = await part.get_poll(1)
    assert info is not None and info.status == "closed" and info.results_sent_at is not None
    async with store.sessionmaker() as s:
        rows = (await s.execute(select(Delivery.broadcast_id, Delivery.citizen_id, Delivery.channel)
                                .order_by(Delivery.id))).all()
    results_bid = rows[-1][0]
    assert results_bid is not None
    assert sorted(r[1] or 0 for r in rows if r[0] == results_bid) == sorted(
        [alice_id, (await store.citizens.get_or_create("telegram", "bob")).id])
    [result_msg] = await BroadcastRenderer()(ctx, _Delivery(results_bid, alice_id))
    assert "Cảm ơn bạn đã tham gia" in result_msg.text
    assert "Phường Vỹ Dạ: 2 người" in result_msg.text and "Bạn đã chọn: Làm đường liên thôn" in result_msg.text
    await front.say("/poll close 1")
    assert "đã đóng rồi" in front.last_text
    audit = await store.audit.for_target("1")
    assert any(a.action == "poll.closed" and a.allowed for a in audit)


class _Delivery:
    def __init__(self, broadcast_id: int, citizen_id: int) -> None:
        self.broadcast_id = broadcast_id
        self.citizen_id = citizen_id


async def test_citizen_cannot_organise(engine: Engine, store: Store) -> None:
    chat = Chat(engine, "web", "nobody")
    await chat.say("/poll new")
    assert "chưa có quyền" in chat.last_text
    await chat.say("/broadcast")
    assert "chưa có quyền" in chat.last_text
    refused = [a for a in await store.audit.recent() if not a.allowed]
    assert {a.action for a in refused} == {"poll.new", "broadcast.new"}


async def test_one_vote_per_citizen_is_a_database_rule(store: Store, clock: FixedClock) -> None:
    part = participation_repo(store)
    home = await area(store, "phuong vy da hue")
    poll = await part.create_poll(question="Q?", options=["A", "B", "C"], area_codes=[home.code],
                                  closes_at=clock.now().replace(year=2027), method="approval", max_choices=2)
    citizen = await store.citizens.get_or_create("zalo", "z1")
    # Linked on Telegram too: still one citizen, one ballot.
    await store.citizens.link_identity(citizen.id, "telegram", "t1")
    async with store.sessionmaker() as s:
        s.add(Vote(poll_id=poll.id, citizen_id=citizen.id, created_at=clock.now(), updated_at=clock.now()))
        s.add(Vote(poll_id=poll.id, citizen_id=citizen.id, created_at=clock.now(), updated_at=clock.now()))
        with pytest.raises(IntegrityError):
            await s.commit()

    # Ten concurrent ballots from the same citizen: exactly one ballot survives, with one choice set.
    choices = [[1], [2], [3], [1, 2], [2, 3], [1], [3], [2], [1, 3], [1]]
    outcomes = await asyncio.gather(*(part.vote(poll.id, citizen.id, c, area_id=home.id, phone_verified=False)
                                      for c in choices), return_exceptions=True)
    assert not [o for o in outcomes if isinstance(o, BaseException)]
    async with store.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Vote).where(Vote.poll_id == poll.id)) == 1
    assert len(await part.my_vote(poll.id, citizen.id)) in (1, 2)
    results = await part.results(poll.id)
    assert results.voters == 1

    with pytest.raises(VoteRefused) as bad:
        await part.vote(poll.id, citizen.id, [1, 2, 3], area_id=home.id, phone_verified=False)
    assert bad.value.reason == "too_many"
    with pytest.raises(VoteRefused) as bad:
        await part.vote(poll.id, citizen.id, [4], area_id=home.id, phone_verified=False)
    assert bad.value.reason == "out_of_range"
    with pytest.raises(VoteRefused) as bad:
        await part.vote(poll.id, citizen.id, [1], area_id=None, phone_verified=False)
    assert bad.value.reason == "no_area"


async def test_due_polls_close_themselves_and_results_go_out(store: Store, clock: FixedClock) -> None:
    part = participation_repo(store)
    home = await area(store, "phuong vy da hue")
    poll = await part.create_poll(question="Q?", options=["A", "B"], area_codes=[],
                                  closes_at=clock.now().replace(hour=5))
    voters = [await store.citizens.get_or_create("web", f"v{i}") for i in range(3)]
    for v in voters:
        await part.vote(poll.id, v.id, [1], area_id=home.id, phone_verified=False)
    clock.advance(hours=4)
    planner = BroadcastPlanner(store, chunk=2)
    assert await planner.run_once() == 0  # nothing pending before; the poll's results are planned inline
    assert (await part.get_poll(poll.id)).status == "closed"  # type: ignore[union-attr]
    [results] = await broadcast_repo(store).recent()
    progress = await broadcast_repo(store).progress(results.id)
    assert results.kind == "poll_result" and progress.total == 3 and progress.pending == 3
    assert await planner.run_once() == 0  # idempotent: no second results broadcast
    assert len(await broadcast_repo(store).recent()) == 1
