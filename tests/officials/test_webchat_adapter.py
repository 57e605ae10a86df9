"""Through a real channel adapter: the citizen in the browser (web chat websocket), the official
on Telegram. Notices reach the open socket; while the tab is closed they wait (window closed)
and arrive when the citizen comes back."""

from __future__ import annotations

from bot.clock import FixedClock
from bot.context import AppContext
from bot.outbox.worker import OutboxWorker
from tests.harness import Chat, make_engine
from tests.officials.conftest import HUE
from tests.webchat.conftest import WsChat, client, connect  # noqa: F401  (fixtures)
from tests.webchat.test_conversation import Connect, file_report_until_confirm, onboard


async def test_notices_reach_the_browser_and_wait_while_it_is_closed(connect: Connect, app_ctx: AppContext,  # noqa: F811
                                                                      clock: FixedClock) -> None:
    tab = await connect("browser-1")
    await onboard(tab)
    await file_report_until_confirm(tab)
    await tab.tap("Gửi")
    citizen = await app_ctx.store.citizens.get_or_create("web", "browser-1")
    [case] = await app_ctx.store.cases.list_for_citizen(citizen.id)

    await app_ctx.store.officials.add(channel="telegram", channel_user_id="4242", role="official", unit="Phường",
                                      area_codes=[HUE])
    official = Chat(make_engine(app_ctx), "telegram", "4242")
    await official.say(f"/ack {case.display_code}")
    await official.say(f"/reply {case.code} Tổ công tác sẽ đến kiểm tra chiều nay.")
    worker = OutboxWorker(app_ctx, worker_id="web-test")
    assert await worker.run_once() == 2
    frames = await tab.read(first=5)
    assert "đã được tiếp nhận" in frames[0]["text"]
    assert "Tổ công tác sẽ đến kiểm tra chiều nay." in frames[1]["text"]
    assert frames[1]["buttons"][0][0]["payload"] == f"status:show:{case.code}"

    await tab.ws.close()
    await official.say(f"/status {case.code} resolved")
    await worker.run_once()
    assert await worker.run_once() == 0  # kept, not retried in a loop

    clock.advance(minutes=2)
    back = await connect("browser-1")
    await back.send({"text": "menu"})
    assert await worker.run_once() == 1
    [notice] = await back.read(first=5)
    assert "đã được xử lý xong" in notice["text"]
    await back.send({"payload": notice["buttons"][0][1]["payload"]})  # 👎 not fixed
    assert "mở lại" in back.text
    reopened = await app_ctx.store.cases.get(case.id)
    assert reopened is not None and reopened.status == "reopened"
