"""Outbound rendering: the exact calls the OA API receives."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path
from typing import Any

from PIL import Image

from bot.messages import Button, Outbound
from tests.zalo.conftest import Zalo

CS = "/v3.0/oa/message/cs"
UPLOAD = "/v2.0/oa/upload/image"


def buttons(n: int) -> list[list[Button]]:
    return [[Button(f"🔹 Mục {i}", f"x:item:{i}")] for i in range(1, n + 1)]


async def test_buttons_become_a_template(zalo: Zalo) -> None:
    await zalo.runtime.channel.send("r1", [Outbound("Bạn chọn gì?", buttons(3))])
    [call] = zalo.fake.calls
    assert call.path == CS
    assert call.json == {
        "recipient": {"user_id": "r1"},
        "message": {
            "text": "Bạn chọn gì?",
            "attachment": {"type": "template", "payload": {"buttons": [
                {"title": "🔹 Mục 1", "type": "oa.query.show", "payload": "#p:x:item:1"},
                {"title": "🔹 Mục 2", "type": "oa.query.show", "payload": "#p:x:item:2"},
                {"title": "🔹 Mục 3", "type": "oa.query.show", "payload": "#p:x:item:3"},
            ]}},
        },
    }


async def test_too_many_buttons_become_numbered_text(zalo: Zalo) -> None:
    await zalo.runtime.channel.send("r1", [Outbound("Chọn:", buttons(6))])
    [call] = zalo.fake.calls
    assert call.json == {"recipient": {"user_id": "r1"}, "message": {"text": "Chọn:\n\n" + "\n".join(
        f"{i}. 🔹 Mục {i}" for i in range(1, 7))}}


async def test_long_text_is_split_at_2000(zalo: Zalo) -> None:
    words = " ".join(f"từ{i}" for i in range(1200))  # ~6,000 characters
    await zalo.runtime.channel.send("r1", [Outbound(words, buttons(2))])
    calls = zalo.fake.sends("r1")
    assert len(calls) == 4 and all(len(c.text) <= 2000 for c in calls)
    assert " ".join(c.text for c in calls) == words
    assert [bool(c.buttons) for c in calls] == [False, False, False, True]  # buttons on the last part


async def test_contact_and_location_requests(zalo: Zalo) -> None:
    await zalo.runtime.channel.send("r1", [Outbound("Cho mình số điện thoại nhé.", request_contact=True),
                                           Outbound("Bạn ở đâu?", request_location=True)])
    text, info, where = zalo.fake.calls
    assert text.message == {"text": "Cho mình số điện thoại nhé."}
    assert info.message == {"attachment": {"type": "template", "payload": {
        "template_type": "request_user_info",
        "elements": [{"title": "📱 Chia sẻ số điện thoại",
                      "subtitle": "Bấm vào đây để gửi số điện thoại Zalo của bạn."}]}}}
    assert where.text.startswith("Bạn ở đâu?\n\n📍 ") and "Vị trí" in where.text


async def test_english_hints_follow_the_citizens_language(zalo: Zalo) -> None:
    citizen = await zalo.ctx.store.citizens.get_or_create("zalo", "en1")
    await zalo.ctx.store.citizens.update(citizen.id, locale="en")
    await zalo.runtime.channel.send("en1", [Outbound("Where?", request_location=True)])
    assert "Location" in zalo.fake.calls[0].text


async def test_images_uploaded_shrunk_or_linked(zalo: Zalo, tmp_path: Path) -> None:
    media = tmp_path / "media"
    (media / "ab").mkdir(parents=True)
    small = media / "ab" / "small.png"
    Image.new("RGB", (40, 30), "red").save(small)
    big = media / "ab" / "big.png"
    Image.frombytes("RGB", (1200, 1200), os.urandom(1200 * 1200 * 3)).save(big)
    assert big.stat().st_size > 1024 * 1024
    channel = zalo.runtime.channel
    await channel.send("r1", [Outbound("Ảnh nhỏ", image=str(small)), Outbound("Ảnh lớn", image="ab/big.png"),
                              Outbound("Ảnh ngoài", image="https://example.invalid/a.jpg"),
                              Outbound("Không được", image="../../etc/passwd")])
    paths = [c.path for c in zalo.fake.calls]
    assert paths == [UPLOAD, CS, CS, UPLOAD, CS, CS, CS, CS, CS]
    up_small, img_small, _, up_big, img_big, _, img_url, _, refused = zalo.fake.calls
    assert up_small.file == small.read_bytes()
    attachment_id = up_small.answer["data"]["attachment_id"]
    assert img_small.message == {"attachment": {"type": "template", "payload": {
        "template_type": "media", "elements": [{"media_type": "image", "attachment_id": attachment_id}]}}}
    assert up_big.file is not None and len(up_big.file) <= 1024 * 1024
    assert Image.open(io.BytesIO(up_big.file)).format == "JPEG"
    assert img_big.template["elements"][0]["attachment_id"] == up_big.answer["data"]["attachment_id"]
    assert img_url.template["elements"] == [{"media_type": "image", "url": "https://example.invalid/a.jpg"}]
    assert refused.message == {"text": "Không được"}  # a path outside the media dir is never read
    # the same image again is not uploaded twice
    zalo.fake.calls.clear()
    await channel.send("r1", [Outbound("", image=str(small))])
    assert [c.path for c in zalo.fake.calls] == [CS]


async def test_sends_are_paced_by_the_shared_bucket(make_zalo: Any) -> None:
    """`zalo_rate_per_second` holds for every send, through the project's token bucket."""
    z = await make_zalo(zalo_rate_per_second=20)
    start = time.monotonic()
    await z.runtime.channel.send("r1", [Outbound(f"tin {i}") for i in range(6)])
    assert time.monotonic() - start >= 5 / 20 * 0.9  # the first goes at once, then one per 50 ms
    assert len(z.fake.calls) == 6
