"""Durable intake: events survive crashes and failures, replies are retried without re-running
the dialog, attachments that cannot be fetched are kept as notes."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.messages import Inbound, Outbound
from bot.router import Router
from bot.store import Store
from bot.store.models import InboundEvent
from bot.turn import Turn
from integrations.zalo.events import external_id
from integrations.zalo.repo import InboundEventRepo
from tests.harness import JPEG
from tests.zalo.conftest import Events, Zalo, ZaloFactory
from tests.zalo.test_report_flow import onboard


async def rows(store: Store) -> list[InboundEvent]:
    async with store.sessionmaker() as s:
        return list(await s.scalars(select(InboundEvent).order_by(InboundEvent.id)))


async def test_pending_events_resumed_at_startup(make_zalo: ZaloFactory, store: Store, clock: Any) -> None:
    repo = InboundEventRepo(store.sessionmaker, clock)
    events = Events(clock)
    waiting = events.follow("early")
    assert await repo.add(external_id(waiting), waiting)  # accepted, then the server died
    interrupted = events.text("mid", "xin chào")
    await repo.add(external_id(interrupted), interrupted)
    [_, row] = await repo.due(10)
    assert await repo.claim(row, timedelta(seconds=60))  # a worker took it, then died

    z = await make_zalo()  # starting the app starts the worker
    for _ in range(100):
        if z.fake.sends("early"):
            break
        await asyncio.sleep(0.05)
    assert z.fake.sends("early") and not z.fake.sends("mid")
    clock.advance(seconds=61)  # the dead worker's lease ends
    await z.settle()
    assert z.fake.sends("mid")
    assert [r.status for r in await rows(store)] == ["done", "done"]


async def test_failure_is_retried_then_answered_once(zalo: Zalo, store: Store) -> None:
    real_handle = zalo.engine.handle
    failures = {"left": 1}

    async def flaky(inbound: Inbound) -> list[Outbound]:
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("database went away")
        return await real_handle(inbound)

    zalo.engine.handle = flaky  # type: ignore[method-assign]
    await zalo.user("f1").say("xin chào")
    [row] = await rows(store)
    assert (row.status, row.attempts) == ("pending", 1) and "database went away" in (row.last_error or "")
    assert zalo.fake.sends("f1") == []
    zalo.clock.advance(seconds=3)
    await zalo.settle()
    [row] = await rows(store)
    assert row.status == "done" and zalo.fake.sends("f1")


async def test_persistent_failure_gives_up_with_an_apology(make_zalo: ZaloFactory, store: Store) -> None:
    z = await make_zalo()

    async def broken(inbound: Inbound) -> list[Outbound]:
        raise RuntimeError("bug")

    z.engine.handle = broken  # type: ignore[method-assign]
    await z.user("f2").say("xin chào")
    for _ in range(z.runtime.intake.max_attempts):
        z.clock.advance(seconds=400)
        await z.settle()
    [row] = await rows(store)
    assert row.status == "failed" and row.attempts == z.runtime.intake.max_attempts
    [apology] = z.fake.sends("f2")
    assert apology.text == z.ctx.i18n.t("vi", "engine.error")


async def test_rate_limited_replies_resent_without_rerunning_the_dialog(zalo: Zalo, store: Store) -> None:
    u = zalo.user("r1")
    zalo.fake.fail_next_sends(0, -32)  # the greeting's first message passes, the second is refused
    await u.follow()
    [row] = await rows(store)
    assert row.status == "replying" and row.body["_sent"] == 1 and len(row.body["_replies"]) >= 2
    first = zalo.fake.sends("r1")
    assert len(first) == 1
    zalo.clock.advance(seconds=61)  # the -32 back-off
    await zalo.settle()
    [row] = await rows(store)
    assert row.status == "done"
    sent = zalo.fake.sends("r1")
    assert sent[0].json == first[0].json and len(sent) == len(row.body["_replies"])  # nothing twice
    assert any(c.buttons for c in sent)


async def test_unreachable_attachments_are_kept_as_notes(zalo: Zalo, store: Store) -> None:
    zalo.ctx.settings.max_media_bytes = 256 * 1024
    zalo.runtime.intake.downloader._max_bytes = 256 * 1024
    zalo.fake.huge_bytes = 2 * 1024 * 1024
    zalo.fake.files["ok.jpg"] = JPEG
    u = await onboard(zalo, "m1")
    await u.tap("Gửi phản ánh")
    await u.tap("Môi trường")
    await u.say("Rác đổ ra đường")
    await u.photo(zalo.fake.file_url("missing.jpg"))
    assert "chưa tải được" in u.last_text
    await u.photo(zalo.fake.url + "/files/huge")
    assert "chưa tải được" in u.last_text
    await u.photo(zalo.fake.file_url("ok.jpg"))
    await u.tap("Xong")
    await u.location(21.0285, 105.8542)
    await u.tap("Gửi")
    assert "Mã phản ánh" in u.last_text
    citizen = await store.citizens.get_or_create("zalo", "m1")
    [case] = await store.cases.list_for_citizen(citizen.id)
    notes = sorted((a.note or "") for a in await store.cases.attachments(case.id))
    assert any("http_404" in n for n in notes) and any("too_large" in n for n in notes)
    assert "" in notes  # the good photo


async def test_submit_info_verifies_phone(zalo: Zalo, store: Store) -> None:
    u = await onboard(zalo, "p1")
    await u.submit_info("84912345678")
    citizen = await store.citizens.get_or_create("zalo", "p1")
    assert citizen.phone_verified
    assert (await store.citizens.find_by_phone("0912 345 678")).id == citizen.id  # type: ignore[union-attr]
    await u.submit_info("not-a-phone")  # refused quietly, never a crash
    assert [r.status for r in await rows(store)][-1] == "done"


async def test_sticker_gets_a_polite_reply(zalo: Zalo) -> None:
    u = await onboard(zalo, "s1")
    await u.sticker()
    assert u.last_text.startswith("😊")


async def test_sticker_fallback_without_a_dialog_for_it(make_zalo: ZaloFactory) -> None:
    router = Router("tiny")

    @router.on_idle
    async def echo(turn: Turn) -> None:
        turn.send(Outbound(f"echo {turn.text}"))

    z = await make_zalo(router=router)
    u = z.user("s2")
    await u.sticker()
    assert u.last_text == z.ctx.i18n.t("vi", "zalo.sticker_reply")
    await u.say("#p:")  # a bare prefix is ordinary text
    assert u.last_text == "echo #p:"


async def test_old_finished_events_are_pruned(zalo: Zalo, store: Store) -> None:
    await zalo.user("old").say("xin chào")
    repo = zalo.runtime.intake.repo
    failed = zalo.events.text("old", "hỏng")
    await repo.add(external_id(failed), failed)
    [_, row] = await rows(store)
    await repo.fail(row.id, "kept for an operator")
    zalo.clock.advance(days=6)
    assert await repo.prune(timedelta(days=7)) == 0
    zalo.clock.advance(days=2)
    assert await repo.prune(timedelta(days=7)) == 1
    assert [r.status for r in await rows(store)] == ["failed"]
