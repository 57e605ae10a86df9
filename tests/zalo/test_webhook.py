"""Bad input at the webhook: clear statuses, nothing stored twice, nothing lost, never a 500."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from sqlalchemy import func, select

from bot.store import Store
from bot.store.models import InboundEvent
from tests.zalo.conftest import Zalo, ZaloFactory, sign
from tests.zalo.fake_zalo import APP_SECRET


async def stored(store: Store) -> int:
    async with store.sessionmaker() as s:
        return int(await s.scalar(select(func.count(InboundEvent.id))) or 0)


async def test_signature_and_freshness(zalo: Zalo, store: Store) -> None:
    body = zalo.events.text("u1", "xin chào")
    raw = json.dumps(body).encode()
    assert await zalo.post(body, signature=None) == 403
    assert await zalo.post(body, signature="mac=" + "0" * 64) == 403
    assert await zalo.post(body, signature=sign(raw, body["timestamp"], secret=APP_SECRET)) == 403
    # the signature covers the exact bytes: re-serialised JSON with the same content fails
    assert await zalo.post(body, raw=json.dumps(body, indent=1).encode(),
                           signature=sign(raw, body["timestamp"])) == 403
    assert await stored(store) == 0 and zalo.fake.sends() == []

    old = zalo.events.text("u1", "cũ")
    zalo.clock.advance(seconds=601)
    assert await zalo.post(old) == 403  # a replay of an old, validly signed event
    future = zalo.events.text("u1", "tương lai")
    zalo.clock.advance(seconds=-1200)
    assert await zalo.post(future) == 403
    zalo.clock.advance(seconds=600)
    assert await zalo.post(old) == 200  # within max age, by ctx.clock
    assert await stored(store) == 1


async def test_app_secret_when_configured(make_zalo: ZaloFactory, store: Store) -> None:
    z = await make_zalo(zalo_signature_secret="app")
    body = z.events.text("u2", "xin chào")
    raw = json.dumps(body).encode()
    assert await z.post(body) == 403  # signed with the OA secret
    assert await z.post(body, raw=raw, signature=sign(raw, body["timestamp"], secret=APP_SECRET)) == 200
    assert z.fake.sends("u2")


async def test_malformed_bodies(zalo: Zalo, store: Store) -> None:
    ts = str(int(zalo.clock.now().timestamp() * 1000))
    for raw in (b"not json", b"[1, 2]", b"\xff\xfe", b""):
        assert await zalo.post(raw=raw, signature=sign(raw, ts)) == 400
    no_ts = zalo.events.text("u1", "hi")
    del no_ts["timestamp"]
    raw = json.dumps(no_ts).encode()
    assert await zalo.post(raw=raw, signature=sign(raw, "")) == 400

    no_sender = zalo.events.text("u1", "hi")
    del no_sender["sender"]
    no_text = zalo.events.text("u1", "hi")
    del no_text["message"]["text"]
    no_attachment = zalo.events.image("u1", "https://example.invalid/x.jpg")
    no_attachment["message"]["attachments"] = []
    bad_location = zalo.events.location("u1", 16.4, 107.5)
    bad_location["message"]["attachments"][0]["payload"]["coordinates"]["latitude"] = "north"
    for body in (no_sender, no_text, no_attachment, bad_location):
        assert await zalo.post(body) == 400
    assert await stored(store) == 0


async def test_unknown_and_receipt_events_acknowledged(zalo: Zalo, store: Store) -> None:
    for name in ("user_seen_message", "user_received_message", "oa_send_text", "some_future_event"):
        body = zalo.events.base(name, "u1")
        body["message"] = {"msg_id": "x" + name}
        assert await zalo.post(body) == 200
    assert await stored(store) == 0 and zalo.fake.sends() == []


async def test_replay_ten_times_handled_once(zalo: Zalo, store: Store) -> None:
    follow = zalo.events.follow("u-replay")  # no msg_id: deduped on a hash of the event
    statuses = await asyncio.gather(*(zalo.post(follow, settle=False) for _ in range(10)))
    assert statuses == [200] * 10
    await zalo.settle()
    greeting = zalo.fake.sends("u-replay")
    assert greeting and await stored(store) == 1
    text = zalo.events.text("u-replay", "xin chào")
    for _ in range(10):
        assert await zalo.post(text) == 200
    assert await stored(store) == 2
    assert len(zalo.fake.sends("u-replay")) > len(greeting)
    after = len(zalo.fake.sends("u-replay"))
    assert await zalo.post(text) == 200
    assert len(zalo.fake.sends("u-replay")) == after


async def test_answers_fast_under_load(zalo: Zalo, store: Store) -> None:
    bodies = [zalo.events.text(f"load-{i}", "xin chào") for i in range(40)]

    async def timed(body: dict[str, object]) -> tuple[int, float]:
        started = time.monotonic()
        status = await zalo.post(body, settle=False)
        return status, time.monotonic() - started

    results = await asyncio.gather(*(timed(b) for b in bodies))
    assert [status for status, _ in results] == [200] * 40
    assert max(seconds for _, seconds in results) < 2.0  # Zalo's deadline, while the worker runs
    await zalo.settle()
    assert await stored(store) == 40
    assert all(zalo.fake.sends(f"load-{i}") for i in range(40))
    async with store.sessionmaker() as s:
        statuses_db = set(await s.scalars(select(InboundEvent.status)))
    assert statuses_db == {"done"}


async def test_max_age_setting(make_zalo: ZaloFactory) -> None:
    z = await make_zalo(zalo_signature_max_age_seconds=30)
    body = z.events.text("u3", "hi")
    z.clock.advance(seconds=29)
    fresh = z.events.text("u3", "hi again")
    z.clock.advance(seconds=2)
    assert await z.post(body) == 403
    assert await z.post(fresh) == 200


@pytest.mark.redis
async def test_replays_with_redis_dedupe_and_locks(make_zalo: ZaloFactory, store: Store, redis_url: str) -> None:
    z = await make_zalo(redis_url=redis_url)
    body = z.events.text("u-redis", "xin chào")
    statuses = await asyncio.gather(*(z.post(body, settle=False) for _ in range(10)))
    assert statuses == [200] * 10
    await z.settle()
    assert await stored(store) == 1
    first = len(z.fake.sends("u-redis"))
    assert first and await z.post(body) == 200 and len(z.fake.sends("u-redis")) == first
