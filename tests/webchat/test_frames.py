"""Bad input on the web chat gets a clear answer and the socket keeps serving."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.bootstrap import build_engine
from bot.context import AppContext
from bot.errors import WindowClosed
from bot.messages import Button, Outbound
from integrations.webchat import CHANNEL, FrameError, WebChannel, parse_frame, render, setup_webchat
from tests.harness import JPEG, OGG
from tests.webchat.conftest import WsChat

Connect = Callable[[str], Awaitable[WsChat]]


def error_of(frames: list[dict[str, Any]]) -> str:
    assert len(frames) == 1, frames
    assert set(frames[0]) == {"error", "text"} and frames[0]["text"], frames
    return str(frames[0]["error"])


async def still_serving(tab: WsChat) -> None:
    await tab.send({"text": "/start"})
    assert tab.last and "error" not in tab.last[0] and "Tiếng Dân" in tab.text


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json at all", "bad_json"),
        ('{"text": "unterminated', "bad_json"),
        ("[1, 2, 3]", "bad_frame"),
        ('"just a string"', "bad_frame"),
        ("{}", "empty"),
        ('{"hello": "world", "foo": 1}', "empty"),
        ('{"text": 5}', "bad_frame"),
        ('{"text": null}', "bad_frame"),
        ('{"payload": ["x"]}', "bad_frame"),
        ('{"payload": ""}', "bad_frame"),
        ('{"payload": "' + "x" * 65 + '"}', "bad_frame"),
        ('{"payload": "nút-bấm"}', "bad_frame"),
        ('{"location": "Huế"}', "bad_location"),
        ('{"location": {"lat": "16.4", "lon": 107.5}}', "bad_location"),
        ('{"location": {"lat": 95, "lon": 107.5}}', "bad_location"),
        ('{"location": {"lat": true, "lon": 107.5}}', "bad_location"),
        ('{"location": {"lat": 16.4}}', "bad_location"),
        ('{"photo": "%%%not base64%%%"}', "bad_base64"),
        ('{"photo": ""}', "bad_base64"),
        ('{"photo": 123}', "bad_frame"),
        ('{"voice": "abc"}', "bad_base64"),
        ('{"contact": "0912345678"}', "bad_frame"),
        ('{"contact": {"phone": ""}}', "bad_frame"),
        ('{"text": "hi", "id": {"a": 1}}', "bad_frame"),
        ('{"text": "hi", "id": ""}', "bad_frame"),
        ('{"text": "hi", "id": true}', "bad_frame"),
    ],
)
async def test_malformed_frame_gets_error_and_socket_stays_open(connect: Connect, frame: str, code: str) -> None:
    tab = await connect("bad-frames")
    assert error_of(await tab.send(frame)) == code
    await still_serving(tab)


async def test_error_text_comes_from_the_catalog(connect: Connect, app_ctx: AppContext) -> None:
    tab = await connect("catalog-check")
    await tab.send("nope")
    assert tab.last[0]["text"] == app_ctx.i18n.t("vi", "web.error.bad_json")
    assert not tab.last[0]["text"].startswith("web.")


async def test_binary_frame_is_refused(connect: Connect) -> None:
    tab = await connect("binary")
    await tab.ws.send_bytes(b"\x00\x01")
    assert error_of(await tab.read()) == "bad_frame"
    await still_serving(tab)


async def test_oversized_frame_default_limit(connect: Connect) -> None:
    """> 12 MB is refused with an error frame, not a dropped connection."""
    tab = await connect("huge")
    frame = json.dumps({"photo": "A" * (12 * 1024 * 1024 + 16)})
    assert error_of(await tab.send(frame)) == "too_large"
    await still_serving(tab)


async def test_photo_larger_than_media_limit(app_ctx: AppContext, aiohttp_client: Any) -> None:
    app_ctx.settings.max_media_bytes = 1000
    app = web.Application()
    setup_webchat(app, app_ctx, build_engine(app_ctx), max_frame_chars=4000)
    client: TestClient[Any, Any] = await aiohttp_client(app)
    tab = WsChat(await client.ws_connect("/webchat/ws?user=small"))
    big_photo = base64.b64encode(b"\xff\xd8\xff" + b"\x00" * 2000).decode()
    assert error_of(await tab.send({"photo": big_photo})) == "too_large"
    assert error_of(await tab.send({"text": "x" * 5000})) == "too_large"
    await still_serving(tab)


@pytest.mark.parametrize("user", ["", "a" * 65, "bad user", "../etc", "ü", "a;b"])
async def test_bad_user_id_is_400(client: TestClient[Any, Any], user: str) -> None:
    response = await client.get("/webchat/ws", params={"user": user})
    assert response.status == 400


async def test_missing_user_is_400(client: TestClient[Any, Any]) -> None:
    assert (await client.get("/webchat/ws")).status == 400


async def test_engine_failure_answers_and_keeps_socket(connect: Connect, app_ctx: AppContext,
                                                       client: TestClient[Any, Any],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    tab = await connect("unlucky")
    original = app_ctx.store.citizens.get_or_create
    calls = {"n": 0}

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database went away")
        return await original(*args, **kwargs)

    monkeypatch.setattr(app_ctx.store.citizens, "get_or_create", flaky)
    frames = await tab.send({"text": "/start", "id": "retry-me"})
    assert frames == [{"text": app_ctx.i18n.t("vi", "engine.error"), "buttons": []}]
    # the failed frame's id was released: the client's retry is handled, not dropped
    await tab.send({"text": "/start", "id": "retry-me"})
    assert "Tiếng Dân" in tab.text
    metrics = await (await client.get("/metrics")).text()
    assert 'tiengdan_errors_total{channel="web"} 1.0' in metrics


async def test_voice_contact_and_location_reach_the_engine(connect: Connect, app_ctx: AppContext) -> None:
    tab = await connect("media-user")
    await tab.send({"voice": base64.b64encode(OGG).decode(), "id": "v1"})
    assert tab.last and "error" not in tab.last[0]
    await tab.send({"contact": {"phone": "0912 345 678"}})
    assert tab.last and "error" not in tab.last[0]
    await tab.send({"location": {"lat": 21.0285, "lon": 105.8542}})
    assert tab.last and "error" not in tab.last[0]


# --- pure parts -----------------------------------------------------------------------------


def test_parse_frame_builds_inbound() -> None:
    frame = json.dumps({
        "text": "xin chào", "id": 7, "location": {"lat": 16, "lon": 107.5},
        "photo": base64.b64encode(JPEG).decode(), "contact": {"phone": "0912345678"}, "later": "ignored",
    })
    inbound = parse_frame(frame, "u1", max_frame_chars=10_000, max_media_bytes=10_000)
    assert inbound.channel == CHANNEL and inbound.user_id == "u1"
    assert inbound.message_id == "u1:c-7"
    assert inbound.text == "xin chào"
    assert inbound.location is not None and (inbound.location.lat, inbound.location.lon) == (16.0, 107.5)
    assert [m.kind for m in inbound.media] == ["photo"] and inbound.media[0].data == JPEG
    assert inbound.contact is not None and not inbound.contact.verified
    without_id = parse_frame('{"text": "a"}', "u1", max_frame_chars=100, max_media_bytes=1)
    again = parse_frame('{"text": "a"}', "u1", max_frame_chars=100, max_media_bytes=1)
    assert without_id.message_id and without_id.message_id != again.message_id


def test_parse_frame_rejects_nan() -> None:
    with pytest.raises(FrameError) as err:
        parse_frame('{"location": {"lat": NaN, "lon": 1}}', "u", max_frame_chars=100, max_media_bytes=1)
    assert err.value.code == "bad_location"


def test_render_images(tmp_path: Path) -> None:
    media_dir = tmp_path / "media"
    sha = "ab" * 32
    inside = media_dir / "ab" / "ab" / f"{sha}.jpg"
    message = Outbound("x", buttons=[[Button("🅰️ A", "a")]], image=str(inside), request_location=True)
    assert render(message, media_dir) == {
        "text": "x", "buttons": [[{"label": "🅰️ A", "payload": "a"}]], "image": f"/media/{sha}",
        "request_location": True,
    }
    assert render(Outbound("x", image="https://example.org/a.png"), media_dir)["image"] == (
        "https://example.org/a.png"
    )
    assert "image" not in render(Outbound("x", image="/etc/passwd"), media_dir)
    assert "image" not in render(Outbound("x", image=str(media_dir / ".." / "secret.jpg")), media_dir)
    assert "image" not in render(Outbound("x", image=str(media_dir / "ab" / "notes.pdf")), media_dir)
    assert "image" not in render(Outbound("x", image=str(media_dir / f"{sha}.jpg")), media_dir)  # not stored


async def test_proactive_send_reaches_open_tabs(connect: Connect, app_ctx: AppContext) -> None:
    channel = app_ctx.channels.get(CHANNEL)
    assert isinstance(channel, WebChannel)
    with pytest.raises(WindowClosed):
        await channel.send("nobody-here", [Outbound("hello")])
    tab = await connect("listener")
    await still_serving(tab)
    await channel.send("listener", [Outbound("🔔 Phản ánh đã được tiếp nhận.")])
    assert await tab.read() == [{"text": "🔔 Phản ánh đã được tiếp nhận.", "buttons": []}]
