"""A whole report through Zalo: follow → onboarding → text, photo, voice, location → case; status."""

from __future__ import annotations

from sqlalchemy import select

from bot.store import Store
from bot.store.models import InboundEvent
from tests.harness import JPEG, OGG
from tests.zalo.conftest import Zalo
from tests.zalo.fake_zalo import FIRST_ACCESS


async def onboard(z: Zalo, user_id: str):  # type: ignore[no-untyped-def]
    u = z.user(user_id)
    await u.follow()
    assert "Tiếng Dân" in u.last_text
    await u.tap("Tiếng Việt")
    assert "đồng ý" in u.last_text.lower()
    await u.tap("Đồng ý")
    await u.tap("Bỏ qua")
    await u.tap("Hiện tên")
    assert "Bạn muốn làm gì" in u.last_text
    return u


async def test_full_report_and_status_check(zalo: Zalo, store: Store) -> None:
    z = zalo
    z.fake.files["pothole.jpg"] = JPEG
    z.fake.files["voice.ogg"] = OGG
    u = await onboard(z, "5510000000000000001")

    # Every call went to the consultation endpoint with the access_token header.
    first = z.fake.sends()[0]
    assert first.path == "/v3.0/oa/message/cs" and first.headers["access_token"] == FIRST_ACCESS
    assert first.user_id == "5510000000000000001"
    with_buttons = next(c for c in z.fake.sends() if c.buttons)
    lang = next(b for b in with_buttons.buttons if "Tiếng Việt" in b["title"])
    assert lang["type"] == "oa.query.show" and lang["payload"].startswith("#p:")

    await u.tap("Gửi phản ánh")
    # 11 categories do not fit a template (max 5 buttons): numbered text instead.
    assert "1. " in u.last_text and u.last[-1].buttons == []
    await u.tap("Đường sá")
    assert "kể ngắn gọn" in u.last_text
    await u.say("Ổ gà lớn giữa đường trước chợ")
    await u.photo(z.fake.file_url("pothole.jpg"))
    assert "ảnh thứ 1" in u.last_text
    await u.voice(z.fake.file_url("voice.ogg"))
    await u.tap("Xong")
    await u.location(16.4637, 107.5909)
    assert "Đã nhận vị trí" in u.last_text
    await u.tap("Gửi")
    assert "Mã phản ánh của bạn" in u.last_text

    citizen = await store.citizens.get_or_create("zalo", "5510000000000000001")
    [case] = await store.cases.list_for_citizen(citizen.id)
    assert case.category == "traffic_roads" and case.status == "received"
    assert case.description == "Ổ gà lớn giữa đường trước chợ"
    assert case.source_channel == "zalo" and case.lat == 16.4637
    assert case.display_code in u.last_text
    attachments = await store.cases.attachments(case.id)
    assert sorted(a.kind for a in attachments) == ["photo", "voice"]

    await u.tap("Xem tình trạng")
    assert "Đã nhận" in u.last_text and case.display_code in u.last_text

    async with store.sessionmaker() as s:
        rows = list(await s.scalars(select(InboundEvent).where(InboundEvent.channel == "zalo")))
    assert rows and all(r.status == "done" for r in rows)
    assert all(c.ok for c in z.fake.sends(ok_only=False))
