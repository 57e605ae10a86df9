"""Engine rules that hold for every dialog: expiry, concurrency, labels, media, failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.clock import FixedClock
from bot.context import AppContext
from bot.engine import Engine
from bot.messages import Inbound, Media
from bot.router import Router
from bot.store import Store
from bot.turn import Turn
from tests.dialogs.test_report_flow import onboard
from tests.harness import HUE, Chat, draft_report, make_context, make_engine


@pytest.fixture(params=["memory", "redis"])
async def ctx(request: pytest.FixtureRequest, store: Store, clock: FixedClock) -> AsyncIterator[AppContext]:
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    context = make_context(store, clock, redis_url=redis_url)
    yield context
    await context.sessions.close()
    await context.dedupe.close()
    await context.locks.close()


@pytest.fixture
def engine(ctx: AppContext) -> Engine:
    return make_engine(ctx)


async def test_idle_session_restarts_and_offers_the_draft(engine: Engine, clock: FixedClock, store: Store) -> None:
    chat = Chat(engine, "web", "sleepy")
    await onboard(chat)
    await chat.tap("Gửi phản ánh")
    await chat.tap("Giáo dục")
    await chat.say("Trường thiếu bàn ghế")
    clock.advance(minutes=31)
    await chat.say("alo")
    assert "làm dở" in chat.last_text
    await chat.tap("Làm tiếp")
    assert "ảnh" in chat.last_text  # category and description kept: on to photos
    await chat.tap("Không có ảnh")
    await chat.location(21.0285, 105.8542)
    await chat.tap("Gửi")
    citizen = await store.citizens.get_or_create("web", "sleepy")
    [case] = await store.cases.list_for_citizen(citizen.id)
    assert case.category == "education" and case.description == "Trường thiếu bàn ghế"


async def test_idle_without_draft_says_so(engine: Engine, clock: FixedClock) -> None:
    chat = Chat(engine, "web", "idle")
    await onboard(chat)
    await chat.tap("Tra cứu")
    clock.advance(hours=2)
    await chat.say("xin chào")
    assert "Đã lâu" in chat.last_text


async def test_concurrent_submits_of_one_citizen_file_once(engine: Engine, store: Store) -> None:
    chat = Chat(engine, "web", "twotabs")
    await onboard(chat)
    await draft_report(chat, location=HUE)
    submit = chat.button("Gửi").payload
    results = await asyncio.gather(*(chat.send(payload=submit) for _ in range(5)))
    citizen = await store.citizens.get_or_create("web", "twotabs")
    assert len(await store.cases.list_for_citizen(citizen.id)) == 1
    assert sum(1 for r in results if any("Mã phản ánh" in m.text for m in r)) == 1


async def test_typed_button_label_selects_it(engine: Engine) -> None:
    chat = Chat(engine, "zalo", "typist")
    await chat.say("xin chào")
    await chat.say("tieng viet")  # the label without diacritics or emoji
    assert "đồng ý" in chat.last_text.lower()
    await chat.say("🚫 Không đồng ý")  # exactly what a Zalo query button sends back
    assert "Không sao" in chat.last_text


async def test_bad_media_gets_a_clear_answer(engine: Engine, store: Store) -> None:
    chat = Chat(engine, "web", "media")
    await onboard(chat)
    await chat.tap("Gửi phản ánh")
    await chat.tap("Y tế")
    await chat.tap("Bỏ qua")
    await chat.send(media=[Media("photo", data=b"%PDF-1.4 not a picture", mime="image/jpeg")])
    assert "không phải ảnh" in chat.last_text
    await chat.send(media=[Media("photo", data=b"\xff\xd8\xff" + b"\x00" * (21 * 1024 * 1024))])
    assert "lớn quá" in chat.last_text
    await chat.send(media=[Media("photo", data=None, error="HTTP 404", source_ref="https://x/y.jpg")])
    assert "chưa tải được" in chat.last_text
    await chat.tap("Xong")
    await chat.location(16.4637, 107.5909)
    await chat.tap("Gửi")
    citizen = await store.citizens.get_or_create("web", "media")
    [case] = await store.cases.list_for_citizen(citizen.id)
    [attachment] = await store.cases.attachments(case.id)
    assert attachment.sha256 is None and attachment.note == "HTTP 404"


async def test_failure_releases_the_message_for_a_retry(ctx: AppContext) -> None:
    router = Router()
    calls = []

    @router.on_idle
    async def flaky(turn: Turn) -> None:
        calls.append(turn.text)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        turn.say("menu.prompt")

    engine = Engine(ctx, router)
    inbound = Inbound(channel="telegram", user_id="9", message_id="42", text="hello")
    with pytest.raises(RuntimeError):
        await engine.handle(inbound)
    replies = await engine.handle(Inbound(channel="telegram", user_id="9", message_id="42", text="hello"))
    assert [r.text for r in replies] == ["🏠 Bạn muốn làm gì?"]
    assert await engine.handle(Inbound(channel="telegram", user_id="9", message_id="42", text="hello")) == []
