"""The same poll through a real channel adapter: the web chat websocket of `create_app`."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from bot.context import AppContext
from bot.server import create_app
from bot.store.participation import participation_repo
from tests.participation.conftest import area
from tests.webchat.conftest import AppClient, WsChat


async def test_vote_and_stop_over_the_websocket(app_ctx: AppContext, aiohttp_client: AppClient) -> None:
    store = app_ctx.store
    home = await area(store, "phuong vy da hue")
    poll = await participation_repo(store).create_poll(
        question="Làm gì trước?", options=["🛣️ Đường", "🚻 Nhà vệ sinh"], area_codes=[home.code],
        closes_at=store.clock.now().replace(year=2027))
    client: TestClient[Any, Any] = await aiohttp_client(await create_app(app_ctx.settings, ctx=app_ctx, workers=False))
    tab = WsChat(await client.ws_connect("/webchat/ws?user=web-voter"))
    await tab.send({"text": "/start"})
    await tab.tap("Tiếng Việt")
    await tab.tap("Đồng ý")
    await tab.send({"text": "phuong vy da hue"})
    await tab.tap("Đúng")
    await tab.tap("Hiện tên")
    await tab.tap("Bình chọn")
    await tab.tap("Làm gì trước")
    await tab.send({"text": "2"})
    assert "Đã ghi nhận phiếu của bạn: 🚻 Nhà vệ sinh" in tab.text
    await tab.send({"payload": f"part:v:{poll.id}:1"})  # an older button: the vote changes, still one
    assert "Đã đổi phiếu" in tab.text
    citizen = await store.citizens.get_or_create("web", "web-voter")
    assert await participation_repo(store).my_vote(poll.id, citizen.id) == (1,)
    assert (await participation_repo(store).results(poll.id)).voters == 1
    await tab.tap("Nhận thông báo")  # the menu shown after voting
    assert "Vỹ Dạ" in tab.text
    await tab.send({"text": "stop"})
    assert "Đã hủy đăng ký" in tab.text
    assert await participation_repo(store).subscribed_area_ids(citizen.id) == []
