"""A citizen uses the web chat from a browser: onboarding, a report by buttons + photo +
location, the case code, its status; the same `user` id after reconnecting is the same citizen."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable

from bot.context import AppContext
from tests.harness import JPEG
from tests.webchat.conftest import WsChat

Connect = Callable[[str], Awaitable[WsChat]]


async def onboard(tab: WsChat) -> None:
    await tab.send({"text": "/start"})  # what the page sends on a first visit
    assert "Tiếng Dân" in tab.text
    await tab.tap("Tiếng Việt")
    await tab.tap("Đồng ý")
    await tab.tap("Bỏ qua")
    await tab.tap("Hiện tên")
    assert "Bạn muốn làm gì" in tab.text


async def file_report_until_confirm(tab: WsChat) -> None:
    await tab.tap("Gửi phản ánh")
    await tab.tap("Đường sá")
    await tab.tap("Bỏ qua")
    await tab.send({"photo": "data:image/jpeg;base64," + base64.b64encode(JPEG).decode(), "id": "photo-1"})
    assert "ảnh thứ 1" in tab.text
    await tab.tap("Xong")
    assert any(f.get("request_location") for f in tab.last)
    await tab.send({"location": {"lat": 16.4637, "lon": 107.5909}})
    assert "Gửi phản ánh này" in tab.text


async def test_whole_report_over_the_websocket(connect: Connect, app_ctx: AppContext) -> None:
    tab = await connect("grandma-1")
    await onboard(tab)
    await file_report_until_confirm(tab)
    frames = await tab.tap("Gửi")
    assert "Mã phản ánh của bạn" in tab.text
    assert all(set(f) <= {"text", "buttons", "image", "request_location", "request_contact"} for f in frames)
    for frame in frames:
        for row in frame["buttons"]:
            assert all(set(b) == {"label", "payload"} for b in row)

    citizen = await app_ctx.store.citizens.get_or_create("web", "grandma-1")
    [case] = await app_ctx.store.cases.list_for_citizen(citizen.id)
    assert case.display_code in tab.text
    assert case.category == "traffic_roads" and case.source_channel == "web"
    assert case.area_name == "Phường Thuận Hóa" and case.lat == 16.4637
    [photo] = await app_ctx.store.cases.attachments(case.id)
    assert photo.kind == "photo" and photo.mime == "image/jpeg" and photo.stored

    await tab.tap("Xem tình trạng")
    assert case.display_code in tab.text and "Đã nhận" in tab.text


async def test_reconnect_keeps_the_same_citizen(connect: Connect, app_ctx: AppContext) -> None:
    tab = await connect("returning-7")
    await onboard(tab)
    await tab.ws.close()

    again = await connect("returning-7")
    await again.send({"text": "menu"})
    assert "Bạn muốn làm gì" in again.text  # no second onboarding
    assert "ngôn ngữ nào" not in again.text
    identity = await app_ctx.store.citizens.identity_for("web", "returning-7")
    assert identity is not None
    citizen = await app_ctx.store.citizens.get(identity.citizen_id)
    assert citizen is not None and citizen.has_consent
    assert len(citizen.identities) == 1

    stranger = await connect("someone-else")
    await stranger.send({"text": "menu"})
    assert "ngôn ngữ nào" in stranger.text  # a new user id is a new citizen


async def test_duplicate_frame_id_is_handled_once(connect: Connect, app_ctx: AppContext) -> None:
    tab = await connect("dup-user")
    await onboard(tab)
    await file_report_until_confirm(tab)
    submit = tab.button("Gửi")["payload"]
    first = await tab.send({"payload": submit, "id": "submit-1"})
    assert "Mã phản ánh" in tab.text
    replay = await tab.send({"payload": submit, "id": "submit-1"}, first=1.5)
    assert first and replay == []
    # the socket still answers, and the case exists once
    await tab.send({"text": "menu", "id": "after"})
    assert "Bạn muốn làm gì" in tab.text
    citizen = await app_ctx.store.citizens.get_or_create("web", "dup-user")
    assert len(await app_ctx.store.cases.list_for_citizen(citizen.id)) == 1


async def test_same_frame_id_from_another_user_is_not_a_duplicate(connect: Connect) -> None:
    one, two = await connect("user-a"), await connect("user-b")
    await one.send({"text": "/start", "id": "1"})
    await two.send({"text": "/start", "id": "1"})
    assert "Tiếng Dân" in one.text and "Tiếng Dân" in two.text


async def test_concurrent_frames_of_one_user_file_one_case(connect: Connect, app_ctx: AppContext) -> None:
    """Two tabs of one person press "Gửi" at the same moment: one case, both tabs answered."""
    tab = await connect("two-tabs")
    await onboard(tab)
    await file_report_until_confirm(tab)
    submit = tab.button("Gửi")["payload"]
    other = await connect("two-tabs")
    await asyncio.gather(
        tab.ws.send_json({"payload": submit, "id": "tab1"}),
        other.ws.send_json({"payload": submit, "id": "tab2"}),
    )
    got_one, got_two = await asyncio.gather(tab.read(), other.read())
    assert got_one and got_two
    answers = tab.text + "\n" + other.text
    assert answers.count("Mã phản ánh của bạn") == 1
    citizen = await app_ctx.store.citizens.get_or_create("web", "two-tabs")
    assert len(await app_ctx.store.cases.list_for_citizen(citizen.id)) == 1


async def test_english_page_socket_starts_in_english(client: object, app_ctx: AppContext) -> None:
    from aiohttp.test_utils import TestClient

    assert isinstance(client, TestClient)
    tab = WsChat(await client.ws_connect("/webchat/ws?user=en-user&lang=en"))
    await tab.send({"text": "/start"})
    assert "Tiếng Dân" in tab.text
    await tab.send("{oops")
    assert tab.last == [{"error": "bad_json", "text": app_ctx.i18n.t("en", "web.error.bad_json")}]
