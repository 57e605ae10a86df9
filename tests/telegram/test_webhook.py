"""The webhook's HTTP contract: authentication, bad bodies, update kinds, retries."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from bot.store import Store
from integrations.telegram.processor import UpdateProcessor
from tests.telegram.conftest import Tg, next_update_id


async def test_missing_or_wrong_secret_is_403(tg: Tg) -> None:
    update = tg.user().message_update(text="xin chào")
    assert await tg.post(update, secret=None) == 403
    assert await tg.post(update, secret="wrong") == 403
    assert await tg.post(update, secret="test-secret_12") == 403  # a prefix of the real one
    await tg.channel.drain(5)
    assert tg.api.sent() == []
    assert await tg.post(update) == 200  # and the genuine delivery still goes through
    await tg.channel.drain(5)
    assert tg.api.sent(111)


@pytest.mark.parametrize("body", [
    b"", b"not json", b'{"update_id": 5, "message": {', b"[1, 2]", b'"text"', b"null",
    b'{"message": {}}', b'{"update_id": "7"}', b'{"update_id": true}',
    b'{"update_id": 9, "message": "junk"}', b'{"update_id": 9, "message": {"text": "no chat"}}',
    b"\xff\xfe\x00garbage",
])
async def test_bodies_that_are_not_updates_get_400(tg: Tg, body: bytes) -> None:
    assert await tg.post(None, raw=body) == 400
    assert tg.api.sent() == []


async def test_oversized_body_is_refused(tg: Tg) -> None:
    body = b'{"update_id": 1, "pad": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    assert await tg.post(None, raw=body) == 413


async def test_unknown_update_types_are_ignored_with_200(tg: Tg) -> None:
    for update in (
        {"update_id": next_update_id(), "future_kind": {"x": 1}},
        {"update_id": next_update_id(), "channel_post": {"message_id": 1, "date": 0,
                                                          "chat": {"id": -100, "type": "channel"}, "text": "hi"}},
        {"update_id": next_update_id(), "message": {"message_id": 1, "date": 0, "from": {
            "id": 5, "is_bot": False, "first_name": "A"}, "chat": {"id": 5, "type": "private"},
            "dice": {"emoji": "🎲", "value": 3}}},
    ):
        assert await tg.post(update) == 200
    await tg.channel.drain(5)
    assert tg.api.sent() == []


async def test_edited_message_gets_one_polite_notice(tg: Tg) -> None:
    user = tg.user(121)
    update = {"update_id": next_update_id(), "edited_message": {
        "message_id": 3, "date": int(time.time()), "edit_date": int(time.time()),
        "from": user.sender, "chat": user.chat, "text": "sửa lại"}}
    for _ in range(3):
        assert await tg.post(update) == 200
    await tg.channel.drain(5)
    [notice] = tg.api.sent(121)
    assert notice.text == "✏️ Mình không đọc được tin đã sửa. Bạn gửi lại thành tin mới nhé."
    # a live location moving is an edit too, but says nothing
    live = {"update_id": next_update_id(), "edited_message": {
        "message_id": 4, "date": 0, "edit_date": 1, "from": user.sender, "chat": user.chat,
        "location": {"latitude": 16.0, "longitude": 108.0}}}
    assert await tg.post(live) == 200
    await tg.channel.drain(5)
    assert len(tg.api.sent(121)) == 1


async def test_group_chat_is_asked_to_write_privately_once(tg: Tg, store: Store) -> None:
    sender = {"id": 131, "is_bot": False, "first_name": "B", "language_code": "en"}
    group = {"id": -1001234, "type": "supergroup", "title": "Tổ dân phố 5"}

    def group_message(text: str) -> dict[str, Any]:
        return {"update_id": next_update_id(), "message": {
            "message_id": 1, "date": 0, "from": sender, "chat": group, "text": text}}

    assert await tg.post(group_message("/start")) == 200
    assert await tg.post(group_message("/report")) == 200
    await tg.channel.drain(5)
    [notice] = tg.api.sent(-1001234)
    assert notice.text == "👋 I only chat in private. Tap my name, then Message."
    assert await store.citizens.identity_for("telegram", "131") is None  # no citizen from a group


async def test_sticker_and_video_without_text(tg: Tg) -> None:
    user = tg.user(141)
    video = {"file_id": "v1", "file_unique_id": "vu1", "width": 1, "height": 1, "duration": 2}
    await user.send(user.message_update(video=video))
    assert user.last_status == 200
    assert user.texts == "🎬 Mình chưa nhận được video. Bạn gửi ảnh, ghi âm hoặc vị trí nhé."
    sticker = {"file_id": "s1", "file_unique_id": "su1", "type": "regular", "width": 512, "height": 512,
               "is_animated": False, "is_video": False}
    await user.send(user.message_update(sticker=sticker))
    assert user.last_status == 200


async def test_contact_is_verified_only_when_it_is_the_senders_own(tg: Tg, monkeypatch: Any) -> None:
    seen: list[Any] = []
    original = tg.engine.handle

    async def spy(inbound: Any) -> Any:
        seen.append(inbound.contact)
        return await original(inbound)

    monkeypatch.setattr(tg.engine, "handle", spy)
    user = tg.user(151)
    own = {"phone_number": "+84901234567", "first_name": "An", "user_id": 151}
    other = {"phone_number": "0912345678", "first_name": "Bố", "user_id": 999}
    await user.send(user.message_update(contact=own))
    await user.send(user.message_update(contact=other))
    assert [(c.phone, c.verified) for c in seen] == [("+84901234567", True), ("0912345678", False)]


async def test_blocking_the_bot_marks_the_citizen_unreachable(tg: Tg, store: Store) -> None:
    user = tg.user(161)
    await user.say("xin chào")
    update = {"update_id": next_update_id(), "my_chat_member": {
        "chat": user.chat, "from": user.sender, "date": 0,
        "old_chat_member": {"status": "member", "user": {"id": 7000000001, "is_bot": True, "first_name": "Bot"}},
        "new_chat_member": {"status": "kicked", "until_date": 0,
                            "user": {"id": 7000000001, "is_bot": True, "first_name": "Bot"}}}}
    assert await tg.post(update) == 200
    identity = await store.citizens.identity_for("telegram", "161")
    assert identity is not None and identity.unreachable_at is not None


async def test_failure_before_storing_answers_500_then_the_retry_is_handled(
        tg: Tg, store: Store, monkeypatch: Any) -> None:
    user = tg.user(171)
    update = user.message_update(text="xin chào")
    original = store.citizens.get_or_create
    calls = 0

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls <= 2:
            raise ConnectionError("database went away")
        return await original(*args, **kwargs)

    monkeypatch.setattr(store.citizens, "get_or_create", flaky)
    assert await tg.post(update) == 500
    assert await tg.post(update) == 500  # Telegram retries…
    await tg.channel.drain(5)
    errors = tg.api.sent(171)
    assert [c.text for c in errors] == ["😔 Xin lỗi, hệ thống đang gặp lỗi. Bạn thử lại sau ít phút nhé."]
    assert await tg.post(update) == 200  # …and the next attempt is handled, not dropped as a duplicate
    await tg.channel.drain(5)
    assert len(tg.api.sent(171)) > 1
    mark = tg.api.mark()
    assert await tg.post(update) == 200  # once handled, a further replay is a no-op
    await tg.channel.drain(5)
    assert [c for c in tg.api.since(mark) if c.method == "sendMessage"] == []


async def test_polling_handles_updates_and_advances_the_offset(tg: Tg) -> None:
    from integrations.telegram.polling import run_polling

    user = tg.user(181)
    tg.api.updates = [user.message_update(text="xin chào"), user.message_update(text="menu")]
    processor = UpdateProcessor(tg.ctx, tg.engine, tg.channel, tg.channel._limiter)
    task = asyncio.create_task(run_polling(tg.channel.bot, processor, allowed_updates=["message"],
                                           poll_timeout=0))
    try:
        for _ in range(200):
            offsets = [c.params.get("offset") for c in tg.api.of("getUpdates")]
            if tg.api.updates[-1]["update_id"] + 1 in offsets:
                break
            await asyncio.sleep(0.02)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    await tg.channel.drain(5)
    assert tg.api.calls[[c.method for c in tg.api.calls].index("deleteWebhook")].params.get(
        "drop_pending_updates") in (False, None)
    assert tg.api.of("getUpdates")[0].params.get("allowed_updates") == ["message"]
    assert len(tg.api.sent(181)) >= 2
