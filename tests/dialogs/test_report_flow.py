"""A citizen files a report by buttons, a photo and a location (0 typed characters),
then follows it by code."""

from __future__ import annotations

from bot.engine import Engine
from bot.store import Store
from tests.harness import HUE, Chat, draft_report, file_report


async def onboard(chat: Chat, *, anonymous: bool = False) -> None:
    await chat.say("xin chào")
    assert "Tiếng Dân" in chat.last_text
    await chat.tap("Tiếng Việt")
    assert "đồng ý" in chat.last_text.lower()
    await chat.tap("Đồng ý")
    await chat.tap("Bỏ qua")  # home commune
    await chat.tap("Ẩn danh" if anonymous else "Hiện tên")
    assert "Bạn muốn làm gì" in chat.last_text


async def test_report_with_zero_typed_characters(engine: Engine, store: Store) -> None:
    chat = Chat(engine, "web", "grandma")
    await chat.send(payload="g:menu")  # the web page's first tap
    await chat.tap("Tiếng Việt")
    await chat.tap("Đồng ý")
    await chat.tap("Bỏ qua")
    await chat.tap("Hiện tên")
    await chat.tap("Gửi phản ánh")
    await chat.tap("Đường sá")
    assert "kể ngắn gọn" in chat.last_text
    await chat.tap("Bỏ qua")
    await chat.photo()
    assert "ảnh thứ 1" in chat.last_text
    await chat.tap("Xong")
    await chat.location(16.4637, 107.5909)  # Huế
    assert "Đã nhận vị trí" in chat.last_text
    assert "Gửi phản ánh này" in chat.last_text
    await chat.tap("Gửi")
    assert "Mã phản ánh của bạn" in chat.last_text
    citizen = await store.citizens.get_or_create("web", "grandma")
    cases = await store.cases.list_for_citizen(citizen.id)
    assert len(cases) == 1
    case = cases[0]
    assert case.category == "traffic_roads" and case.status == "received"
    assert case.display_code in chat.last_text
    assert case.area_name == "Phường Thuận Hóa"
    assert case.lat == 16.4637
    attachments = await store.cases.attachments(case.id)
    assert [a.kind for a in attachments] == ["photo"]
    # follow it
    await chat.tap("Xem tình trạng")
    assert "Đã nhận" in chat.last_text and case.display_code in chat.last_text


async def test_numbered_replies_and_typed_commune(engine: Engine, store: Store) -> None:
    chat = Chat(engine, "console", "c1")
    await onboard(chat)
    await chat.say("1")  # first menu item: report
    assert "việc gì" in chat.last_text
    await chat.say("hai")  # second category: waste
    await chat.say("Rác thải đổ bừa bãi ở đầu ngõ")
    await chat.tap("Không có ảnh")
    await chat.tap("Chọn xã")
    await chat.say("phuong vy da hue")
    assert "Vỹ Dạ" in chat.last_text
    await chat.tap("Đúng")
    await chat.tap("Gửi")
    citizen = await store.citizens.get_or_create("console", "c1")
    [case] = await store.cases.list_for_citizen(citizen.id)
    assert case.category == "environment_waste"
    assert case.description == "Rác thải đổ bừa bãi ở đầu ngõ"
    assert case.area_name is not None and "Vỹ Dạ" in case.area_name


async def test_status_lookup_by_other_person_shows_public_only(engine: Engine, store: Store) -> None:
    owner = Chat(engine, "web", "owner")
    await onboard(owner)
    code = await file_report(owner, description="Trạm y tế đóng cửa cả tuần")
    other = Chat(engine, "web", "neighbour")
    await onboard(other)
    await other.say(f"cho hỏi mã {code}")
    assert "Y tế" in other.last_text
    assert "Trạm y tế" not in other.last_text
    assert "Chỉ người gửi" in other.last_text
    await owner.say(code)
    assert "Trạm y tế đóng cửa" in owner.last_text


async def test_duplicate_message_id_files_once(engine: Engine, store: Store) -> None:
    chat = Chat(engine, "web", "dup")
    await onboard(chat)
    await draft_report(chat)
    submit = chat.button("Gửi").payload
    first = await chat.send(payload=submit, message_id="same")
    again = await chat.send(payload=submit, message_id="same")
    assert first and again == []
    citizen = await store.citizens.get_or_create("web", "dup")
    assert len(await store.cases.list_for_citizen(citizen.id)) == 1


async def test_stale_button_and_bad_input(engine: Engine, store: Store) -> None:
    chat = Chat(engine, "web", "bad")
    await onboard(chat)
    await chat.press("report:submit")
    assert "đã cũ" in chat.last_text
    await chat.press("zzz:unknown")
    assert "đã cũ" in chat.last_text
    await chat.say("   \x00\x01  ")
    assert "chưa nhận được" in chat.last_text
    await chat.say("99")
    assert "từ 1 đến" in chat.last_text
    await chat.say("x" * 100_000)
    assert "dài quá" in chat.last_text
    await chat.say("/khonglenh")
    assert "/khonglenh" in chat.last_text


async def test_cancel_and_help_anywhere(engine: Engine) -> None:
    chat = Chat(engine, "web", "esc")
    await onboard(chat)
    await chat.tap("Gửi phản ánh")
    await chat.say("trợ giúp")
    assert "Không cần gõ chữ" in chat.last_text
    assert "việc gì" in chat.last_text  # the prompt is repeated
    await chat.say("hủy")
    assert "Đã hủy" in chat.last_text
    await chat.say("english")
    await chat.tap("English")
    assert "Switched to English" in chat.last_text
    assert "What would you like" in chat.last_text


async def test_photo_first_then_consent(engine: Engine, store: Store) -> None:
    chat = Chat(engine, "web", "photo-first")
    await chat.photo()
    assert "Tiếng Dân" in chat.last_text
    await chat.tap("Tiếng Việt")
    await chat.say("ok")  # not consent
    assert "bấm một nút" in chat.last_text
    await chat.tap("Đồng ý")
    await chat.tap("Bỏ qua")
    await chat.tap("Ẩn danh")
    assert "việc gì" in chat.last_text
    await chat.tap("Ngập")
    await chat.tap("Bỏ qua")
    await chat.tap("Xong")
    await chat.location(10.7769, 106.7009)
    await chat.tap("Gửi")
    citizen = await store.citizens.get_or_create("web", "photo-first")
    [case] = await store.cases.list_for_citizen(citizen.id)
    assert case.anonymous
    assert len(await store.cases.attachments(case.id)) == 1


async def test_neighbour_cosigns_and_is_counted(engine: Engine, store: Store) -> None:
    owner = Chat(engine, "web", "first")
    await onboard(owner)
    code = await file_report(owner, category_label="Rác", location=HUE)
    neighbour = Chat(engine, "zalo", "next-door")
    await onboard(neighbour)
    await neighbour.say(code)
    await neighbour.tap("cũng gặp")
    assert "Cảm ơn" in neighbour.last_text
    await neighbour.say(code)
    await neighbour.tap("cũng gặp")
    assert "đã theo dõi" in neighbour.last_text
    await owner.say(code)
    assert "1 người khác cũng gặp" in owner.last_text
    assert "cũng gặp việc này" not in " ".join(owner.labels())  # the owner cannot co-sign
    case = await store.cases.get_by_code(code)
    assert case is not None and await store.cases.supporter_count(case.id) == 1
