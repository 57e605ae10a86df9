"""An official clears a case from Telegram: inbox, the case card with photo and map link,
acknowledge and resolve by inline buttons; the citizen (also on Telegram) hears each step."""

from __future__ import annotations

from bot.outbox.worker import OutboxWorker
from bot.store import Store
from tests.harness import HUE, file_report
from tests.telegram.conftest import Tg
from tests.telegram.test_conversation import onboard

THUAN_HOA = "19789"


async def test_official_works_a_case_from_telegram(tg: Tg, store: Store) -> None:
    citizen = tg.user(301, first_name="Bà Lan")
    await onboard(citizen)
    await file_report(citizen, category_label="Đường sá", photo=True, location=HUE)
    me = await store.citizens.get_or_create("telegram", "301")
    [case] = await store.cases.list_for_citizen(me.id)

    await store.officials.add(channel="telegram", channel_user_id="900", role="official",
                              unit="UBND Phường Thuận Hóa", area_codes=[THUAN_HOA])
    official = tg.user(900, first_name="Cán bộ")
    await official.say("/inbox")
    assert "1 phản ánh" in official.texts
    await official.tap(case.display_code)  # the inbox lists cases as buttons
    photos = [c for c in official.last if c.method == "sendPhoto"]
    assert photos, "the case photo is shown to the official"
    assert "google.com/maps" in official.texts or "openstreetmap" in official.texts
    assert "301" not in official.texts  # the citizen's chat id is never shown

    await official.tap("Tiếp nhận")
    await official.tap("Đã xử lý xong")
    assert "xử lý xong" in official.texts.lower()

    await OutboxWorker(tg.ctx, worker_id="w").run_once()
    await tg.channel.drain(10)
    to_citizen = "\n".join(c.text or "" for c in tg.api.sent(301))
    assert f"Phản ánh {case.display_code} đã được tiếp nhận" in to_citizen
    assert f"Phản ánh {case.display_code} đã được xử lý xong" in to_citizen
    resolved = await store.cases.get(case.id)
    assert resolved is not None and resolved.status == "resolved"
    assert [e.kind for e in await store.cases.timeline(case.id)][:1] == ["created"]
    assert await store.audit.for_target(case.code)
