"""Consultations (text, voice, choice; paging; CSV; themes), subscriptions with STOP honoured at
any step, and the organiser's broadcast wizard with preview, confirm, status and no-recipient case."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sqlalchemy import select

from bot.config import Settings
from bot.engine import Engine
from bot.participation_cli import _export, analyze
from bot.store import Store
from bot.store.broadcasts import broadcast_repo
from bot.store.models import Attachment, Subscription
from bot.store.participation import participation_repo
from tests.harness import Chat
from tests.participation.conftest import add_official, area, onboard


async def test_consultation_lifecycle(engine: Engine, store: Store, db_url: str, tmp_path: Path) -> None:
    vy_da = await area(store, "phuong vy da hue")
    await add_official(store, "web", "mttq", area_codes=[vy_da.code])
    front = Chat(engine, "web", "mttq")
    await front.say("/consult new")
    await front.say("Dự thảo quy hoạch chợ Vỹ Dạ")
    await front.say("Chợ sẽ dời ra bờ sông. Xin bà con cho ý kiến.")
    await front.say("khong phai link")
    assert "http" in front.last_text
    await front.tap("Bỏ qua")
    await front.tap("Địa bàn của tôi")
    await front.tap("14 ngày")
    await front.say("Bà con có đồng ý dời chợ không?")
    await front.say("Đồng ý\nKhông đồng ý")
    await front.tap("Xong phương án")
    assert "Dự thảo quy hoạch chợ Vỹ Dạ" in front.last_text
    await front.tap("🚀 Mở")
    assert "Đã mở lấy ý kiến số 1" in front.last_text

    people = []
    for i in range(7):
        chat = Chat(engine, "web", f"resident{i}")
        await onboard(chat, store, vy_da)
        people.append(chat)
    first = people[0]
    await first.tap("Góp ý dự thảo")
    await first.tap("Dự thảo quy hoạch")
    assert "Chợ sẽ dời ra bờ sông" in first.last_text
    await first.tap("Không đồng ý")
    assert "Không đồng ý" in first.last_text
    await first.tap("Viết góp ý")
    await first.voice()
    assert "Cảm ơn bạn đã góp ý" in first.last_text
    comments = [
        "Chợ mới xa quá, người già đi lại khó khăn",
        "Cần bãi đỗ xe máy cho chợ mới",
        "Bờ sông hay ngập lụt mùa mưa, chợ sẽ ngập",
        "Người già đi chợ xa khó khăn lắm",
        "Mùa mưa bờ sông ngập nặng",
        "Nên có bãi đỗ xe và nhà vệ sinh",
    ]
    for chat, text in zip(people[1:], comments, strict=True):
        await chat.press("part:c:1")  # the button of the broadcast, tapped later
        await chat.tap("Viết góp ý")
        await chat.say(text)
        assert "Cảm ơn bạn đã góp ý" in chat.last_text

    outsider = Chat(engine, "web", "outsider")
    await onboard(outsider, store, await area(store, "phuong thuan hoa hue"))
    await outsider.press("part:c:1")
    assert "địa phương khác" in outsider.last_text

    repo = participation_repo(store)
    assert await repo.count_comments(1) == 8  # a choice, a voice note, six texts
    async with store.sessionmaker() as s:
        [voice] = (await s.scalars(select(Attachment).where(Attachment.comment_id.is_not(None)))).all()
    assert voice.kind == "voice" and voice.sha256

    await front.say("/consult comments 1")
    assert "góp ý 1–5 trên 8" in front.last_text and "🎤×1" in front.last_text
    await front.tap("Xem tiếp")
    assert "góp ý 6–8 trên 8" in front.last_text and "Nên có bãi đỗ xe" in front.last_text

    out = io.StringIO()
    assert await _export(Settings(database_url=db_url, media_dir=tmp_path / "media"), 1, out) == 8
    exported = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["choice"] for r in exported][:1] == ["Không đồng ý"] and exported[1]["voice_notes"] == "1"
    assert exported[2]["text"] == comments[0] and exported[2]["area"] == "Phường Vỹ Dạ"
    result = await analyze(store, 1)
    assert result.comments == 8 and result.with_text == 6 and result.voice_only == 1
    assert result.choices == {"Không đồng ý": 1}
    assert sum(t.count for t in result.themes) == 6 and len(result.themes) == 2
    assert any("ngập" in " ".join(t.keywords) or "mưa" in " ".join(t.keywords) for t in result.themes)

    await front.say("/consult close 1")
    await people[1].press("part:c:1")
    assert "đã kết thúc" in people[1].last_text


async def test_csv_export_streams_every_comment(store: Store, db_url: str, tmp_path: Path) -> None:
    repo = participation_repo(store)
    cons = await repo.create_consultation(title="T", summary="S", link=None, area_codes=[],
                                          deadline=store.clock.now().replace(year=2027))
    citizen = await store.citizens.get_or_create("web", "w")
    for i in range(1203):  # more than two keyset pages
        await repo.add_comment(cons.id, citizen.id, area_id=None, text=f'ý kiến, số "{i}"\nhai dòng')
    out = io.StringIO()
    assert await _export(Settings(database_url=db_url, media_dir=tmp_path / "media"), cons.id, out) == 1203
    parsed = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["text"] for r in parsed] == [f'ý kiến, số "{i}"\nhai dòng' for i in range(1203)]
    assert set(parsed[0]) == {"id", "created_at", "area", "choice", "text", "voice_notes"}  # no personal data


async def test_subscribe_and_stop_anywhere(engine: Engine, store: Store) -> None:
    home = await area(store, "phuong vy da hue")
    chat = Chat(engine, "telegram", "42")
    citizen_id = await onboard(chat, store, None)
    await chat.tap("Nhận thông báo")
    assert "xã, phường nào" in chat.last_text  # no home commune yet: the picker first
    await chat.say("phuong vy da hue")
    await chat.tap("Đúng")
    assert "Vỹ Dạ" in chat.last_text and "STOP" in chat.last_text
    await chat.tap("Về menu")
    await chat.tap("Nhận thông báo")
    assert "đã đăng ký" in chat.last_text
    assert await participation_repo(store).subscribed_area_ids(citizen_id) == [home.id]

    await chat.tap("Về menu")
    await chat.tap("Gửi phản ánh")  # in the middle of another dialog…
    await chat.say("Hủy đăng ký")  # …the escape word still stops at once
    assert "Đã hủy đăng ký" in chat.last_text
    async with store.sessionmaker() as s:
        [sub] = (await s.scalars(select(Subscription))).all()
    assert not sub.active and sub.stopped_at is not None
    await chat.say("STOP")
    assert "chưa đăng ký" in chat.last_text
    await chat.tap("Nhận thông báo")  # opting in again re-activates the same row
    async with store.sessionmaker() as s:
        [sub] = (await s.scalars(select(Subscription))).all()
    assert sub.active


async def test_broadcast_wizard(engine: Engine, store: Store) -> None:
    vy_da = await area(store, "phuong vy da hue")
    await add_official(store, "web", "front", area_codes=[vy_da.code])
    front = Chat(engine, "web", "front")
    await front.say("/broadcast")
    await front.say("Chiều nay 14h cắt điện để sửa đường dây.")
    await front.tap("Không có ảnh")
    await front.tap("Địa bàn của tôi")
    assert "Chưa có ai đăng ký" in front.last_text  # nobody subscribed: nothing can be sent
    assert "Gửi cho" not in " ".join(front.labels())

    for i in range(3):
        chat = Chat(engine, "web", f"sub{i}")
        await onboard(chat, store, vy_da)
        await chat.tap("Nhận thông báo")
    await front.tap("Chọn địa bàn khác")
    await front.say("phuong thuan hoa hue")  # outside this front's jurisdiction
    assert "ngoài phạm vi" in front.last_text
    await front.tap("Địa bàn của tôi")
    assert "Chiều nay 14h cắt điện" in front.last_text and "Gửi cho 3 người" in " ".join(front.labels())
    await front.photo()  # stray input at the confirm step changes nothing
    assert "Gửi cho 3 người" in " ".join(front.labels())
    await front.tap("Gửi cho 3 người")
    assert "Thông báo số 1 đang được gửi tới 3 người" in front.last_text
    await front.say("/broadcast status 1")
    assert "Đã gửi 0/3" in front.last_text and "Đang chờ: 3" in front.last_text
    await front.say("/broadcast status 99")
    assert "Không tìm thấy" in front.last_text
    progress = await broadcast_repo(store).progress(1)
    assert progress.total == 3 and progress.broadcast.status == "sending"
