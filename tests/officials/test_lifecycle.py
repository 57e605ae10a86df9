"""A whole case lifecycle: a citizen files on the web chat, an official on Telegram works it,
every change reaches the citizen through the outbox, the citizen closes the loop."""

from __future__ import annotations

from bot.context import AppContext
from bot.engine import Engine
from bot.outbox.worker import OutboxWorker
from bot.store import Store
from tests.dialogs.test_report_flow import onboard
from tests.harness import HUE, Chat, file_report
from tests.officials.conftest import THUAN_HOA, channel


async def file_pothole(chat: Chat) -> None:
    """Onboard, then file the pothole report (with a photo) these tests work on."""
    await onboard(chat)
    await file_report(chat, category_label="Đường sá", description="Ổ gà lớn trước chợ", photo=True, location=HUE)


async def test_case_lifecycle_across_channels(engine: Engine, ctx: AppContext, store: Store) -> None:
    citizen = Chat(engine, "web", "citizen-web-77")
    await file_pothole(citizen)
    assert "Mã phản ánh của bạn" in citizen.last_text
    me = await store.citizens.get_or_create("web", "citizen-web-77")
    [case] = await store.cases.list_for_citizen(me.id)
    assert case.ack_due_at is not None and case.due_at is not None
    assert case.display_code in citizen.last_text

    await store.officials.add(channel="telegram", channel_user_id="1001", role="official",
                              unit="UBND phường Thuận Hóa", area_codes=[THUAN_HOA])
    official = Chat(engine, "telegram", "1001", display_name="Cán bộ A")

    await official.say("/inbox")
    assert "1 phản ánh" in official.last_text
    await official.tap(case.display_code)
    card = official.last
    assert "Ổ gà lớn trước chợ" in card[0].text
    assert "Hạn tiếp nhận" in card[0].text
    photos = [m for m in card if m.image]
    [attachment] = await store.cases.attachments(case.id)
    assert len(photos) == 1 and photos[0].image == str(store.media.path_for(attachment.sha256 or ""))
    assert any("google.com/maps?q=16.463700,107.590900" in m.text for m in card)
    assert "Diễn biến" in card[-1].text

    await official.tap("Tiếp nhận")
    assert "Đã tiếp nhận" in official.last_text
    await official.say(f"/assign {case.display_code} Đội quản lý đô thị")
    assert "Đội quản lý đô thị" in official.last_text
    await official.say(f"/reply {case.code} Chúng tôi sẽ vá trong tuần.\nCảm ơn bạn.")
    assert "Đã gửi trả lời" in official.last_text
    await official.say(f"/note {case.display_code} Cần xe lu")
    await official.say(f"/status {case.display_code} resolved Đã vá xong")
    assert "Đã xử lý xong" in official.last_text

    web = channel(ctx, "web")
    assert await OutboxWorker(ctx, worker_id="w1").run_once() == 4  # ack, assign, reply, resolved
    texts = web.texts("citizen-web-77")
    assert len(texts) == 4
    assert "đã được tiếp nhận" in texts[0] and "Hạn xử lý" in texts[0]
    assert "Đội quản lý đô thị" in texts[1]
    assert "Chúng tôi sẽ vá trong tuần.\nCảm ơn bạn." in texts[2]
    assert "Đã vá xong" in texts[3] and "Cần xe lu" not in "".join(texts)  # notes stay internal
    resolved = web.sent[-1][1][0]
    assert [b.payload for b in resolved.flat_buttons()] == [f"fb:fixed:{case.code}", f"fb:notfixed:{case.code}"]

    # the citizen taps "not fixed" (a button from a proactive message, arriving any time later)
    await citizen.press(f"fb:notfixed:{case.code}")
    assert "mở lại" in citizen.last_text
    await citizen.photo()
    assert "Đã nhận ảnh" in citizen.last_text
    await citizen.tap("4")
    assert "⭐⭐⭐⭐" in citizen.last_text
    after = await store.cases.get(case.id)
    assert after is not None and after.status == "reopened" and after.rating == 4
    assert len(await store.cases.attachments(case.id)) == 2

    telegram = channel(ctx, "telegram")
    assert await OutboxWorker(ctx, worker_id="w2").run_once() == 1
    assert "chưa khắc phục" in telegram.texts("1001")[0]

    # the official never sees the citizen's channel identity
    assert all("citizen-web-77" not in m.text for m in official.history)
    actions = [(a.action, a.allowed) for a in await store.audit.for_target(case.code)]
    for action in ("case", "ack", "assign", "reply", "note", "status"):
        assert (action, True) in actions


async def test_fixed_closes_and_second_answer_is_recorded_once(engine: Engine, ctx: AppContext,
                                                                store: Store) -> None:
    citizen = Chat(engine, "web", "c2")
    await file_pothole(citizen)
    me = await store.citizens.get_or_create("web", "c2")
    [case] = await store.cases.list_for_citizen(me.id)
    await store.officials.add(channel="console", channel_user_id="off", role="official", unit="U",
                              area_codes=["46"])
    official = Chat(engine, "console", "off")
    await official.say(f"/status {case.code} resolved")
    await citizen.press(f"fb:fixed:{case.code}")
    assert "đã đóng" in citizen.last_text
    await citizen.press(f"fb:notfixed:{case.code}")
    assert "ghi nhận phản hồi rồi" in citizen.last_text
    closed = await store.cases.get(case.id)
    assert closed is not None and closed.status == "closed"
    # someone else holding the code cannot answer
    other = Chat(engine, "web", "stranger")
    await other.press(f"fb:fixed:{case.code}")
    assert "Chỉ người gửi" in other.last_text


async def test_merge_tells_the_citizen_who_then_follows_the_surviving_case(engine: Engine, ctx: AppContext,
                                                                           store: Store) -> None:
    from tests.officials.conftest import new_case

    first = await new_case(store, user="first")
    dup = await new_case(store, user="second", via="telegram")
    await store.officials.add(channel="console", channel_user_id="mod", role="moderator", unit="Tổ kiểm duyệt",
                              area_codes=["46"])
    await store.officials.add(channel="console", channel_user_id="off", role="official", unit="Phường",
                              area_codes=["46"])
    await Chat(engine, "console", "mod").say(f"/merge {dup.display_code} {first.display_code}")
    merged = await store.cases.get(dup.id)
    assert merged is not None and merged.status == "duplicate" and merged.merged_into_id == first.id
    await Chat(engine, "console", "off").say(f"/status {first.code} in_progress")
    await OutboxWorker(ctx, worker_id="w").run_once()
    second_texts = channel(ctx, "telegram").texts("second")
    assert f"trùng với phản ánh {first.display_code}" in second_texts[0]
    assert "Đang xử lý" in second_texts[1] and first.display_code in second_texts[1]
    assert "Đang xử lý" in channel(ctx, "web").texts("first")[0]
    # the duplicate's status page points at the surviving case
    follower = Chat(engine, "telegram", "second")
    await follower.press(f"status:show:{dup.code}")
    assert first.display_code in follower.last_text


async def test_stats_text_and_chart(engine: Engine, ctx: AppContext, store: Store) -> None:
    from tests.officials.conftest import new_case

    for i, category in enumerate(("traffic_roads", "traffic_roads", "health")):
        await new_case(store, user=f"s{i}", category=category)
    await store.officials.add(channel="console", channel_user_id="boss", role="admin", unit="Tỉnh",
                              area_codes=["46"])
    chat = Chat(engine, "console", "boss")
    await chat.say(f"/ack {(await store.cases.inbox(now=store.clock.now()))[0][0].code}")
    await chat.say("/stats 46 7")
    text, chart = chat.last
    assert "3 phản ánh" in text.text and "trung vị" in text.text
    assert chart.image is not None and chart.image.endswith(".png")
    await chat.say("/stats 01")
    assert "không thuộc địa bàn" in chat.last_text
    await chat.say("/stats foo bar baz")
    assert "Cách dùng: /stats" in chat.last_text


async def test_case_card_warns_when_updates_cannot_reach_the_citizen(engine: Engine, store: Store,
                                                                     ctx: AppContext) -> None:
    from bot.errors import WindowClosed
    from tests.officials.conftest import new_case

    case = await new_case(store, user="far-away", via="web")
    await store.officials.add(channel="console", channel_user_id="off", role="official", unit="Phường",
                              area_codes=[THUAN_HOA])
    official = Chat(engine, "console", "off")
    await official.say(f"/reply {case.code} Đã cử người xuống kiểm tra")
    web = channel(ctx, "web")
    web.failures.append(WindowClosed("no open tab"))
    await OutboxWorker(ctx, worker_id="w1").run_once()
    await official.say(f"/case {case.code}")
    assert "chưa tới được người dân" in official.last_text
