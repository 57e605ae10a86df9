"""The outbox: idempotent enqueue, target choice, retries, admission, renderers, several
workers at once, and a worker killed mid-batch."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select

from bot.channels import Admission
from bot.clock import FixedClock
from bot.context import AppContext
from bot.errors import PermanentSendError, RetryLater, WindowClosed
from bot.messages import Outbound
from bot.outbox import DeliveryView, OutboxWorker, add_delivery, default_renderers
from bot.store import Store
from bot.store.models import Delivery
from tests.outbox.fakes import GatedChannel, RecordingChannel


def chan(ctx: AppContext, name: str) -> RecordingChannel:
    found = ctx.channels.get(name)
    assert isinstance(found, RecordingChannel)
    return found


async def enqueue(store: Store, citizen_id: int, text: str, *, key: str | None = None,
                  kind: str = "notification", payload: bool = True) -> None:
    async with store.cases.session() as s:
        add_delivery(s, kind=kind, now=store.clock.now(), citizen_id=citizen_id,
                     messages=[Outbound(text)] if payload else None, dedupe_key=key)


async def rows(store: Store) -> list[Delivery]:
    async with store.cases.read() as s:
        return list(await s.scalars(select(Delivery).order_by(Delivery.id)))


async def test_enqueue_is_idempotent_and_visible_in_the_same_transaction(store: Store) -> None:
    citizen = await store.citizens.get_or_create("web", "u")
    async with store.cases.session() as s:
        for _ in range(2):
            add_delivery(s, kind="notification", now=store.clock.now(), citizen_id=citizen.id,
                         messages=[Outbound("a")], dedupe_key="k1")
        assert len(list(await s.scalars(select(Delivery)))) == 1
    await enqueue(store, citizen.id, "again", key="k1")
    assert [r.payload for r in await rows(store)] == [[{"text": "a"}]]


async def test_enqueue_rolls_back_with_the_change(store: Store) -> None:
    citizen = await store.citizens.get_or_create("web", "u")
    try:
        async with store.cases.session() as s:
            add_delivery(s, kind="notification", now=store.clock.now(), citizen_id=citizen.id,
                         messages=[Outbound("lost")])
            raise RuntimeError("the change failed")
    except RuntimeError:
        pass
    assert await rows(store) == []


async def test_target_is_the_most_recent_reachable_registered_identity(ctx: AppContext, store: Store,
                                                                        clock: FixedClock) -> None:
    citizen = await store.citizens.get_or_create("web", "w1")
    await store.citizens.link_identity(citizen.id, "telegram", "t1")
    await store.citizens.link_identity(citizen.id, "zalo", "z1")  # zalo is not registered here
    clock.advance(minutes=5)
    await store.citizens.touch_identity("telegram", "t1")
    clock.advance(minutes=5)
    await store.citizens.touch_identity("zalo", "z1")
    await enqueue(store, citizen.id, "one")
    await OutboxWorker(ctx, worker_id="w").run_once()
    assert chan(ctx, "telegram").sent == [("t1", [Outbound("one")])]
    await store.citizens.mark_unreachable("telegram", "t1")
    await enqueue(store, citizen.id, "two")
    await OutboxWorker(ctx, worker_id="w").run_once()
    assert chan(ctx, "web").texts("w1") == ["two"]
    row = (await rows(store))[-1]
    assert (row.status, row.channel, row.channel_user_id, row.sent_at) == ("sent", "web", "w1", clock.now())
    nobody = await store.citizens.get_or_create("zalo", "only-zalo")
    await enqueue(store, nobody.id, "three")
    await OutboxWorker(ctx, worker_id="w").run_once()
    assert (await rows(store))[-1].status == "skipped"


async def test_retry_after_then_success(ctx: AppContext, store: Store, clock: FixedClock) -> None:
    citizen = await store.citizens.get_or_create("web", "u")
    web = chan(ctx, "web")
    web.failures.append(RetryLater("429", retry_after=30))
    await enqueue(store, citizen.id, "hello")
    worker = OutboxWorker(ctx, worker_id="w")
    assert await worker.run_once() == 1
    [row] = await rows(store)
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 1, clock.now() + timedelta(seconds=30))
    assert await worker.run_once() == 0  # not due yet
    clock.advance(seconds=31)
    assert await worker.run_once() == 1
    assert web.texts() == ["hello"]
    [row] = await rows(store)
    assert row.status == "sent" and row.attempts == 2


async def test_gives_up_after_max_attempts_and_on_permanent_errors(ctx: AppContext, store: Store,
                                                                   clock: FixedClock) -> None:
    citizen = await store.citizens.get_or_create("web", "u")
    web = chan(ctx, "web")
    web.failures.extend([RetryLater("5xx"), RetryLater("5xx"), RetryLater("5xx")])
    await enqueue(store, citizen.id, "flaky")
    worker = OutboxWorker(ctx, worker_id="w")
    for _ in range(3):
        await worker.run_once()
        clock.advance(hours=2)
    [row] = await rows(store)
    assert row.status == "failed" and row.attempts == 3 and row.last_error == "5xx"
    web.failures.append(PermanentSendError("blocked"))
    await enqueue(store, citizen.id, "blocked")
    await worker.run_once()
    assert (await rows(store))[-1].status == "failed"
    [ident] = await store.citizens.identities(citizen.id)
    assert ident.unreachable_at is not None
    assert web.sent == []


async def test_window_closed_is_kept_until_the_person_writes(ctx: AppContext, store: Store,
                                                             clock: FixedClock) -> None:
    zalo = GatedChannel("zalo", verdict=Admission(False, "window_closed", reason="48h passed"))
    ctx.channels.register(zalo)
    citizen = await store.citizens.get_or_create("zalo", "z")
    await enqueue(store, citizen.id, "your case")
    worker = OutboxWorker(ctx, worker_id="w")
    await worker.run_once()
    [row] = await rows(store)
    assert (row.status, row.attempts, row.channel_user_id) == ("window_closed", 0, "z")
    clock.advance(hours=1)
    assert await worker.run_once() == 0
    zalo.verdict = Admission(True)
    clock.advance(minutes=1)
    await store.citizens.touch_identity("zalo", "z")  # they wrote to us again
    assert await worker.run_once() == 1
    assert zalo.texts("z") == ["your case"]
    # a send-time WindowClosed is treated the same way
    zalo.failures.append(WindowClosed("closed"))
    await enqueue(store, citizen.id, "later")
    await worker.run_once()
    assert (await rows(store))[-1].status == "window_closed"


async def test_quota_defers_to_retry_at(ctx: AppContext, store: Store, clock: FixedClock) -> None:
    when = clock.now() + timedelta(days=3)
    zalo = GatedChannel("zalo", verdict=Admission(False, "quota", retry_at=when))
    ctx.channels.register(zalo)
    citizen = await store.citizens.get_or_create("zalo", "z")
    await enqueue(store, citizen.id, "news", kind="broadcast")
    await OutboxWorker(ctx, worker_id="w").run_once()
    [row] = await rows(store)
    assert (row.status, row.next_attempt_at, row.attempts) == ("deferred", when, 0)


async def test_renderers_fill_rows_without_payload(ctx: AppContext, store: Store) -> None:
    citizen = await store.citizens.get_or_create("web", "u")

    async def render(context: AppContext, row: DeliveryView) -> list[Outbound]:
        return [Outbound(f"rendered #{row.id} for {row.citizen_id}")]

    await enqueue(store, citizen.id, "", kind="broadcast", payload=False)
    await enqueue(store, citizen.id, "", kind="mystery", payload=False)
    worker = OutboxWorker(ctx, worker_id="w", renderers=default_renderers({"broadcast": render}))
    await worker.run_once()
    assert chan(ctx, "web").texts() == [f"rendered #1 for {citizen.id}"]
    assert [r.status for r in await rows(store)] == ["sent", "failed"]


async def test_two_workers_never_send_twice(ctx: AppContext, store: Store) -> None:
    citizens = [await store.citizens.get_or_create("web", f"u{i}") for i in range(25)]
    for i, citizen in enumerate(citizens):
        await enqueue(store, citizen.id, f"m{i}")
    a, b = OutboxWorker(ctx, worker_id="a"), OutboxWorker(ctx, worker_id="b")
    while True:
        handled = await asyncio.gather(a.run_once(), b.run_once())
        if sum(handled) == 0:
            break
    texts = chan(ctx, "web").texts()
    assert sorted(texts) == sorted(f"m{i}" for i in range(25))
    assert all(r.status == "sent" and r.attempts == 1 for r in await rows(store))


class Killed(BaseException):
    """Stands for kill -9: nothing after it runs in that worker."""


async def test_worker_killed_mid_batch_resumes_without_gap_or_duplicate(ctx: AppContext, store: Store,
                                                                        clock: FixedClock) -> None:
    citizen = await store.citizens.get_or_create("web", "u")
    for i in range(5):
        await enqueue(store, citizen.id, f"m{i}")
    web = chan(ctx, "web")

    class DiesOnThird(RecordingChannel):
        async def send(self, user_id: str, messages: Sequence[Outbound]) -> None:
            if len(web.sent) == 2:
                raise Killed()
            web.sent.append((user_id, list(messages)))

    ctx.channels.register(DiesOnThird("web"))
    dying = OutboxWorker(ctx, worker_id="dying", lease_seconds=60)
    try:
        await dying.run_once()
    except Killed:
        pass
    statuses = [r.status for r in await rows(store)]
    assert statuses == ["sent", "sent", "sending", "sending", "sending"]
    ctx.channels.register(web)
    survivor = OutboxWorker(ctx, worker_id="survivor", lease_seconds=60)
    assert await survivor.run_once() == 0  # the dead worker's lease still holds
    clock.advance(seconds=61)
    assert await survivor.run_once() == 3
    assert web.texts() == [f"m{i}" for i in range(5)]
    assert [(r.status, r.attempts) for r in await rows(store)] == [("sent", 1)] * 2 + [("sent", 2)] * 3


async def test_run_loop_stops_on_event(ctx: AppContext, store: Store) -> None:
    citizen = await store.citizens.get_or_create("web", "u")
    await enqueue(store, citizen.id, "loop")
    stop = asyncio.Event()
    ctx.settings.outbox_poll_seconds = 0.01
    task = asyncio.create_task(OutboxWorker(ctx, worker_id="loop").run(stop))
    for _ in range(200):
        if chan(ctx, "web").sent:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, timeout=2)
    assert chan(ctx, "web").texts() == ["loop"]


async def test_shared_redis_bucket_paces_workers(ctx: AppContext, store: Store, redis_url: str) -> None:
    from redis.asyncio import Redis

    ctx.redis = Redis.from_url(redis_url)
    ctx.settings.telegram_rate_per_second = 50.0
    try:
        for i in range(6):
            citizen = await store.citizens.get_or_create("telegram", f"t{i}")
            await enqueue(store, citizen.id, f"m{i}")
        a, b = OutboxWorker(ctx, worker_id="a"), OutboxWorker(ctx, worker_id="b")
        assert sum(await asyncio.gather(a.run_once(), b.run_once())) == 6
        assert sorted(chan(ctx, "telegram").texts()) == [f"m{i}" for i in range(6)]
        assert await ctx.redis.exists("td:rate:outbox:telegram")
    finally:
        await ctx.redis.aclose()
        ctx.redis = None
