"""Whole conversations over the Telegram webhook, with the real dialogs and store."""

from __future__ import annotations

import asyncio
import re

import pytest

from bot.store import Store
from tests.harness import HUE, JPEG, OGG, draft_report
from tests.telegram.conftest import Tg, TgUser


async def onboard(user: TgUser) -> None:
    await user.say("/start")
    await user.tap("Tiếng Việt")
    await user.tap("Đồng ý")
    # The home-commune prompt asks for a location: a reply keyboard, not inline buttons.
    [prompt] = [c for c in user.last if c.markup and "keyboard" in c.markup]
    assert prompt.keyboard_buttons()[0].get("request_location") is True
    assert prompt.markup is not None and prompt.markup["one_time_keyboard"] is True
    await user.tap("Bỏ qua")  # a reply-keyboard button: its label comes back as text
    await user.tap("Hiện tên")
    assert "Bạn muốn làm gì" in user.texts


async def test_full_report_with_photo_voice_location(tg: Tg, store: Store) -> None:
    user = tg.user(111)
    await onboard(user)
    await user.tap("Gửi phản ánh")
    await user.tap("Đường sá")
    assert "kể ngắn gọn" in user.texts
    await user.voice(OGG)
    await user.photo(JPEG)
    assert "ảnh thứ 1" in user.texts
    await user.tap("Xong")
    where = [c for c in user.last if c.markup and "keyboard" in c.markup]
    # the dialog's own 📍 choice is the location request: one location button, not two
    assert where and where[-1].keyboard_buttons()[0] == {"text": "📍 Gửi vị trí hiện tại", "request_location": True}
    assert sum("📍" in b["text"] for b in where[-1].keyboard_buttons()) == 1
    await user.location(16.4637, 107.5909)
    assert "Đã nhận vị trí" in user.texts
    # the location prompt is done: its reply keyboard is removed by the next plain message
    removed = [c for c in tg.api.sent(111) if (c.markup or {}).get("remove_keyboard")]
    assert removed, "ReplyKeyboardRemove was never sent"
    await user.tap("Gửi")
    assert "Mã phản ánh của bạn" in user.texts

    citizen = await store.citizens.get_or_create("telegram", "111")
    [case] = await store.cases.list_for_citizen(citizen.id)
    assert case.category == "traffic_roads" and case.lat == 16.4637
    assert case.display_code in user.texts
    attachments = await store.cases.attachments(case.id)
    assert sorted(a.kind for a in attachments) == ["photo", "voice"]
    # the largest photo size was fetched, never the thumbnails
    fetched = [c.params["file_id"] for c in tg.api.of("getFile")]
    assert any(f.endswith("-2") and f.startswith("photo-") for f in fetched)
    assert not any(f.startswith("photo-") and not f.endswith("-2") for f in fetched)
    # every button press was answered
    assert len(tg.api.of("answerCallbackQuery")) >= 6

    # status check: the case code typed back
    await user.say(case.display_code)
    assert case.display_code in user.texts and "Đã nhận" in user.texts


async def test_replay_ten_times_files_one_case(tg: Tg, store: Store) -> None:
    user = tg.user(222)
    await onboard(user)
    await draft_report(user)
    submit = user.callback_update(user.button("Gửi")["callback_data"])
    mark = tg.api.mark()
    statuses = await asyncio.gather(*(tg.post(submit) for _ in range(5)))
    statuses += [await tg.post(submit) for _ in range(5)]
    await tg.channel.drain(10)
    assert statuses == [200] * 10
    citizen = await store.citizens.get_or_create("telegram", "222")
    assert len(await store.cases.list_for_citizen(citizen.id)) == 1
    confirmations = [c for c in tg.api.since(mark) if c.text and "Mã phản ánh của bạn" in c.text]
    assert len(confirmations) == 1
    # every delivery of the update still answers the button (Telegram shows a spinner until then)
    assert len([c for c in tg.api.since(mark) if c.method == "answerCallbackQuery"]) == 10


async def test_concurrent_updates_for_one_chat(tg: Tg) -> None:
    user = tg.user(333)
    await onboard(user)
    updates = [user.message_update(text=t) for t in ("trợ giúp", "menu", "trợ giúp")]
    mark = tg.api.mark()
    statuses = await asyncio.gather(*(tg.post(u) for u in updates))
    await tg.channel.drain(10)
    assert statuses == [200, 200, 200]
    sent = [c for c in tg.api.since(mark) if c.method == "sendMessage"]
    assert len(sent) >= 3 and all(c.chat_id == 333 for c in sent)


async def test_huge_text_is_truncated_politely(tg: Tg) -> None:
    user = tg.user(444)
    await onboard(user)
    await user.tap("Gửi phản ánh")
    await user.tap("Đường sá")
    await user.say("ổ gà " * 2000)  # 10,000 characters (Telegram allows 4096, but be safe)
    assert user.last_status == 200
    assert "dài quá" in user.texts
    assert all(len(c.text or "") <= 4096 for c in user.last)


async def test_stale_and_forged_callbacks_are_answered(tg: Tg) -> None:
    user = tg.user(555)
    await onboard(user)
    mark = tg.api.mark()
    await user.press("report:submit")  # no report in progress: stale
    assert "đã cũ" in user.texts
    await user.press("x" * 64)  # forged
    assert user.last_status == 200 and "đã cũ" in user.texts
    answered = [c for c in tg.api.since(mark) if c.method == "answerCallbackQuery"]
    assert len(answered) == 2


async def test_media_download_failure_keeps_the_report(tg: Tg, store: Store) -> None:
    user = tg.user(666)
    await onboard(user)
    await user.tap("Gửi phản ánh")
    await user.tap("Ngập")
    await user.tap("Bỏ qua")
    tg.api.fail("getFile", 400, "Bad Request: file is too big")
    await user.photo(JPEG)
    assert user.last_status == 200
    assert user.last, "the user heard nothing after a failed download"
    await user.tap("Xong")
    await user.location(10.7769, 106.7009)
    await user.tap("Gửi")
    assert re.search(r"Mã phản ánh của bạn", user.texts)
    citizen = await store.citizens.get_or_create("telegram", "666")
    assert len(await store.cases.list_for_citizen(citizen.id)) == 1


@pytest.mark.redis
async def test_report_and_replays_with_redis_backends(tg_redis: Tg, store: Store) -> None:
    """Sessions, de-duplication, rate limits and keyboard flags in Redis (several workers)."""
    from bot.ratelimit import RedisRateLimiter

    assert isinstance(tg_redis.channel._limiter, RedisRateLimiter)
    user = tg_redis.user(777)
    await onboard(user)
    await draft_report(user, category_label="Môi trường", description="Rác đổ ở đầu ngõ 5", location=HUE)
    submit = user.callback_update(user.button("Gửi")["callback_data"])
    statuses = await asyncio.gather(*(tg_redis.post(submit) for _ in range(10)))
    await tg_redis.channel.drain(10)
    assert statuses == [200] * 10
    citizen = await store.citizens.get_or_create("telegram", "777")
    [case] = await store.cases.list_for_citizen(citizen.id)
    assert case.description == "Rác đổ ở đầu ngõ 5"
