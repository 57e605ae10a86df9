"""TelegramChannel as the outbox and replies use it: rendering, order, limits, errors."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import Bot

from bot.clock import FixedClock
from bot.errors import PermanentSendError, RetryLater
from bot.messages import Button, Outbound
from bot.ratelimit import MemoryRateLimiter
from bot.store import Store
from integrations.telegram import TelegramChannel, build_application
from integrations.telegram.keyboard import MemoryKeyboardFlags
from tests.harness import JPEG
from tests.telegram.conftest import Tg, tg_context
from tests.telegram.fake_bot_api import FakeBotAPI


async def test_429_waits_and_retries_in_order(tg: Tg) -> None:
    tg.api.fail("sendMessage", 429, "Too Many Requests", retry_after=1)
    started = time.monotonic()
    await tg.channel.send("201", [Outbound("một"), Outbound("hai"), Outbound("ba")])
    calls = tg.api.of("sendMessage", 201)
    assert [c.text for c in calls] == ["một", "một", "hai", "ba"]
    assert calls[1].at - calls[0].at >= 0.95
    assert time.monotonic() - started >= 0.95


async def test_long_flood_wait_is_handed_back_as_retry_later(tg: Tg) -> None:
    tg.api.fail("sendMessage", 429, "Too Many Requests", retry_after=120)
    with pytest.raises(RetryLater) as info:
        await tg.channel.send("202", [Outbound("thông báo")])
    assert info.value.retry_after == 120


async def test_replies_and_proactive_sends_keep_their_order(tg: Tg) -> None:
    tg.api.delay = 0.05
    tg.channel.send_later("203", [Outbound("reply 1"), Outbound("reply 2")])
    await tg.channel.send("203", [Outbound("status changed")])
    tg.channel.send_later("203", [Outbound("reply 3")])
    await tg.channel.drain(5)
    assert [c.text for c in tg.api.sent(203)] == ["reply 1", "reply 2", "status changed", "reply 3"]


async def test_blocked_user_is_permanent_and_marked_unreachable(tg: Tg, store: Store) -> None:
    await store.citizens.get_or_create("telegram", "204")
    tg.api.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")
    with pytest.raises(PermanentSendError):
        await tg.channel.send("204", [Outbound("tin mới")])
    identity = await store.citizens.identity_for("telegram", "204")
    assert identity is not None and identity.unreachable_at is not None


async def test_refused_keyboard_falls_back_to_numbered_text(tg: Tg) -> None:
    tg.api.fail("sendMessage", 400, "Bad Request: BUTTON_DATA_INVALID")
    message = Outbound("Chọn một:", buttons=[[Button("✅ Có", "y"), Button("❌ Không", "n")]])
    await tg.channel.send("205", [message])
    first, second = tg.api.of("sendMessage", 205)
    assert first.inline_buttons() and second.markup is None
    assert second.text == "Chọn một:\n\n1. ✅ Có\n2. ❌ Không"


async def test_long_text_is_split_on_paragraphs_with_keyboard_last(tg: Tg) -> None:
    paragraphs = [f"Đoạn {i}: " + "chữ " * 300 for i in range(5)]  # ~1,200 characters each
    message = Outbound("\n\n".join(paragraphs), buttons=[[Button("🏠 Menu", "g:menu")]])
    await tg.channel.send("206", [message])
    calls = tg.api.of("sendMessage", 206)
    assert len(calls) == 2
    assert all(len(c.text or "") <= 4096 for c in calls)
    assert calls[0].markup is None and calls[1].inline_buttons() == [{"text": "🏠 Menu", "callback_data": "g:menu"}]
    assert (calls[0].text or "").startswith("Đoạn 0") and (calls[1].text or "").startswith("Đoạn 3")
    assert " ".join(c.text or "" for c in calls).split() == message.text.split()  # nothing lost


async def test_invalid_button_payloads_are_dropped(tg: Tg) -> None:
    message = Outbound("Chọn:", buttons=[[Button("✅ Được", "ok"), Button("💥 Dài", "x" * 65),
                                         Button("🇻🇳 Việt", "lựa-chọn")]])
    await tg.channel.send("207", [message])
    [call] = tg.api.of("sendMessage", 207)
    assert call.inline_buttons() == [{"text": "✅ Được", "callback_data": "ok"}]


async def test_images_from_the_media_dir_urls_and_outside_paths(tg: Tg) -> None:
    media_dir = tg.ctx.settings.media_dir
    (media_dir / "ab").mkdir(parents=True, exist_ok=True)
    (media_dir / "ab" / "map.jpg").write_bytes(JPEG)
    secret = media_dir.parent / "secret.jpg"
    secret.write_bytes(JPEG)
    await tg.channel.send("208", [
        Outbound("🗺 Bản đồ", image="ab/map.jpg", buttons=[[Button("👍 Ok", "ok")]]),
        Outbound("🌐 Ảnh", image="https://example.org/chart.png"),
        Outbound("🚫 Không gửi ảnh này", image=str(secret)),
        Outbound("🚫 Cũng không", image="../secret.jpg"),
    ])
    sent = tg.api.sent(208)
    assert [c.method for c in sent] == ["sendPhoto", "sendPhoto", "sendMessage", "sendMessage"]
    assert sent[0].params["photo"] == JPEG and sent[0].text == "🗺 Bản đồ" and sent[0].inline_buttons()
    assert sent[1].params["photo"] == "https://example.org/chart.png"


async def test_contact_request_keyboard_then_removed(tg: Tg) -> None:
    ask = Outbound("📱 Chia sẻ số điện thoại?", buttons=[[Button("⏭ Bỏ qua", "skip")]], request_contact=True)
    await tg.channel.send("209", [ask])
    await tg.channel.send("209", [Outbound("🙏 Cảm ơn!")])
    await tg.channel.send("209", [Outbound("Tiếp theo")])
    first, second, third = tg.api.sent(209)
    assert first.markup is not None
    assert first.markup["keyboard"] == [[{"text": "📱 Chia sẻ số điện thoại", "request_contact": True}],
                                        [{"text": "⏭ Bỏ qua"}]]
    assert second.markup == {"remove_keyboard": True}
    assert third.markup is None  # removed once is enough


@pytest.fixture
async def bot(fake_api: FakeBotAPI, store: Store, clock: FixedClock, tmp_path: Path) -> AsyncIterator[Bot]:
    ctx = tg_context(store, clock, fake_api, tmp_path / "media")
    application = build_application(ctx.settings)
    async with application.bot as b:
        yield b


async def test_per_chat_and_global_rates(bot: Bot, fake_api: FakeBotAPI, store: Store, clock: FixedClock,
                                         tmp_path: Path) -> None:
    ctx = tg_context(store, clock, fake_api, tmp_path / "media",
                     telegram_per_chat_per_second=5.0, telegram_rate_per_second=10.0)
    channel = TelegramChannel(bot, ctx, limiter=MemoryRateLimiter(), keyboards=MemoryKeyboardFlags(),
                              chat_burst=1)
    await channel.send("301", [Outbound(str(i)) for i in range(4)])  # one chat: 5/s
    chat = [c.at for c in fake_api.of("sendMessage", 301)]
    assert all(b - a >= 0.17 for a, b in itertools.pairwise(chat)), chat
    await asyncio.gather(*(channel.send(str(400 + i), [Outbound("x")]) for i in range(6)))  # 10/s overall
    spread = sorted(c.at for c in fake_api.calls if c.method == "sendMessage" and c.chat_id >= 400)
    assert spread[-1] - spread[0] >= 0.45, spread
