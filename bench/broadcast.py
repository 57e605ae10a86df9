"""Broadcast benchmark: plan 1M recipients (time, peak memory) and send N through a local fake
channel API at a configured rate (achieved rate vs the limit, duplicates and gaps at the fake).

    .venv/bin/python bench/broadcast.py plan --db postgresql+asyncpg://postgres@127.0.0.1:5432/tiengdan_bench
    .venv/bin/python bench/broadcast.py plan --db sqlite+aiosqlite:////tmp/bench.db
    .venv/bin/python bench/broadcast.py send --db postgresql+asyncpg://… --count 20000 --rate 500 [--redis URL]
    .venv/bin/python bench/broadcast.py worker --db URL --api http://127.0.0.1:PORT --rate 200   (one sender)

The fake API answers 429 with `retry_after` for a configurable share of requests (`--storm`), so
the retry path is exercised too. Nothing here talks to a real platform.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.broadcasts.planner import BroadcastPlanner
from bot.broadcasts.render import default_renderers
from bot.channels import ChannelRegistry
from bot.clock import SystemClock
from bot.config import Settings
from bot.context import AppContext
from bot.dedupe import MemoryDeduper
from bot.errors import RetryLater
from bot.i18n import Catalogs
from bot.locks import MemoryLocks
from bot.messages import Outbound
from bot.sessions import MemorySessionStore
from bot.store import Store
from bot.store.broadcasts import broadcast_repo
from bot.store.db import make_engine
from bot.store.models import Base

AREA_ID, AREA_CODE = 1, "99999"


# --- database -------------------------------------------------------------------------------


async def fresh_schema(url: str) -> None:
    """Empty database with the schema and one commune (PostgreSQL: drop and recreate the db)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
        async with admin.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        await admin.dispose()
    elif parsed.database:
        await asyncio.to_thread(Path(parsed.database).unlink, missing_ok=True)
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
        await conn.execute(text("INSERT INTO areas (id, code, level, name, search_key) "
                                "VALUES (:id, :code, 'commune', 'Xã Thử', 'xa thu')"),
                           {"id": AREA_ID, "code": AREA_CODE})
    await engine.dispose()


async def seed(url: str, count: int, *, first: int = 1) -> None:
    """`count` citizens with one Telegram identity and one subscription each, inserted by the server."""
    engine = make_engine(url)
    last = first + count - 1
    pg = engine.dialect.name == "postgresql"
    series = (f"generate_series({int(first)}, {int(last)}) AS g(x)" if pg else "g")
    prefix = "" if pg else (f"WITH RECURSIVE g(x) AS (SELECT {int(first)} "
                            f"UNION ALL SELECT x + 1 FROM g WHERE x < {int(last)}) ")
    now = "now()" if pg else "'2026-01-05 02:00:00.000000'"
    user_id = "x::text" if pg else "CAST(x AS TEXT)"
    async with engine.begin() as conn:
        params: dict[str, Any] = {}
        await conn.execute(text(
            f"{prefix}INSERT INTO citizens "
            "(id, locale, created_at, consent_at, anonymous, phone_verified, home_area_id) "
            f"SELECT x, 'vi', {now}, {now}, false, false, {AREA_ID} FROM {series}"), params)
        await conn.execute(text(
            f"{prefix}INSERT INTO channel_identities (citizen_id, channel, channel_user_id, created_at) "
            f"SELECT x, 'telegram', {user_id}, {now} FROM {series}"), params)
        await conn.execute(text(
            f"{prefix}INSERT INTO subscriptions (citizen_id, area_id, topic, active, created_at) "
            f"SELECT x, {AREA_ID}, 'all', true, {now} FROM {series}"), params)
        if pg:
            for table in ("citizens", "channel_identities", "subscriptions"):
                await conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                        f"(SELECT max(id) FROM {table}))"))
            await conn.execute(text("ANALYZE"))
    await engine.dispose()


async def open_store(url: str) -> Store:
    return await Store.open(url, Path(os.environ.get("TMPDIR", "/tmp")) / "tiengdan-bench-media", SystemClock(),
                            migrate=False)


async def create_broadcast(store: Store) -> int:
    info = await broadcast_repo(store).create(kind="announcement", text="Thông báo thử", area_codes=[AREA_CODE])
    return info.id


# --- planning -------------------------------------------------------------------------------


async def bench_plan(url: str, count: int, chunk: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    await fresh_schema(url)
    await seed(url, count)
    seeded = time.perf_counter() - t0
    store = await open_store(url)
    try:
        bid = await create_broadcast(store)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tracemalloc.start()
        t1 = time.perf_counter()
        planned = await BroadcastPlanner(store, chunk=chunk).plan(bid)
        elapsed = time.perf_counter() - t1
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        progress = await broadcast_repo(store).progress(bid)
    finally:
        await store.close()
    return {"backend": make_url(url).get_backend_name(), "recipients": count, "planned": planned,
            "rows": progress.total, "chunk": chunk, "seed_seconds": round(seeded, 1),
            "plan_seconds": round(elapsed, 2), "python_peak_mib": round(peak / 2**20, 1),
            "process_max_rss_mib": round(rss_after / 1024, 1),
            "rss_growth_during_plan_mib": round((rss_after - rss_before) / 1024, 1)}


# --- the fake platform and the channel that talks to it --------------------------------------


class FakeApi:
    """Records every message by recipient; answers 429 (retry_after) for a share of requests."""

    def __init__(self, storm: float = 0.0, retry_after: float = 1.0) -> None:
        self.received: Counter[str] = Counter()
        self.times: list[float] = []
        self.storm = storm
        self.retry_after = retry_after
        self.rejected = 0
        self._n = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/send", self.send)
        app.router.add_get("/stats", self.stats)
        return app

    async def send(self, request: web.Request) -> web.Response:
        body = await request.json()
        self._n += 1
        if self.storm and (self._n * self.storm) % 1 < self.storm:  # every 1/storm-th request
            self.rejected += 1
            return web.json_response({"ok": False, "error_code": 429,
                                      "parameters": {"retry_after": self.retry_after}}, status=429)
        self.received[str(body["user"])] += 1
        self.times.append(time.monotonic())
        return web.json_response({"ok": True})

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.summary())

    def summary(self, expected: Sequence[str] = ()) -> dict[str, Any]:
        duplicates = sum(n - 1 for n in self.received.values() if n > 1)
        gaps = len([u for u in expected if u not in self.received])
        times = sorted(self.times)
        rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0
        peak = 0
        j = 0
        for i, t in enumerate(times):  # the busiest one-second window
            while times[j] < t - 1.0:
                j += 1
            peak = max(peak, i - j + 1)
        return {"messages": len(times), "recipients": len(self.received), "duplicates": duplicates,
                "gaps": gaps, "rate_per_second": round(rate, 1), "peak_one_second": peak,
                "rejected_429": self.rejected}


class HttpChannel:
    """A channel named like Telegram (so its rate setting applies) that posts to the fake API."""

    def __init__(self, session: aiohttp.ClientSession, api: str, name: str = "telegram") -> None:
        self.name = name
        self.session = session
        self.api = api

    async def send(self, user_id: str, messages: Sequence[Outbound]) -> None:
        for message in messages:
            async with self.session.post(f"{self.api}/send", json={"user": user_id, "text": message.text}) as r:
                if r.status == 429:
                    body = await r.json()
                    raise RetryLater("429", retry_after=float(body["parameters"]["retry_after"]))
                r.raise_for_status()


def make_ctx(store: Store, settings: Settings, redis: Any = None) -> AppContext:
    return AppContext(settings=settings, clock=SystemClock(), store=store, sessions=MemorySessionStore(),
                      dedupe=MemoryDeduper(), locks=MemoryLocks(), i18n=Catalogs(), channels=ChannelRegistry(),
                      redis=redis)


async def run_workers(url: str, api: str, rate: float, *, workers: int, redis_url: str | None,
                      stop: asyncio.Event, lease: float = 600.0, until_empty: bool = False) -> None:
    from redis.asyncio import Redis

    from bot.outbox.worker import OutboxWorker

    settings = Settings(database_url=url, telegram_rate_per_second=rate, outbox_batch_size=max(50, int(rate)),
                        outbox_poll_seconds=0.2, outbox_max_attempts=50)
    store = await open_store(url)
    redis = Redis.from_url(redis_url) if redis_url else None
    ctx = make_ctx(store, settings, redis)
    async with aiohttp.ClientSession() as http:
        ctx.channels.register(HttpChannel(http, api))
        renderers = default_renderers()
        senders = [OutboxWorker(ctx, worker_id=f"bench-{os.getpid()}-{i}", renderers=renderers, lease_seconds=lease)
                   for i in range(workers)]
        if until_empty:
            async def drain(worker: OutboxWorker) -> None:
                idle = 0
                while not stop.is_set() and idle < 3:
                    idle = idle + 1 if await worker.run_once() == 0 else 0
                    if idle:
                        await asyncio.sleep(0.3)

            await asyncio.gather(*(drain(w) for w in senders))
        else:
            await asyncio.gather(*(w.run(stop) for w in senders))
    if redis is not None:
        await redis.aclose()
    await store.close()


async def bench_send(url: str, count: int, rate: float, *, workers: int, redis_url: str | None,
                     storm: float) -> dict[str, Any]:
    await fresh_schema(url)
    await seed(url, count)
    store = await open_store(url)
    bid = await create_broadcast(store)
    await BroadcastPlanner(store).plan(bid)
    await store.close()
    fake = FakeApi(storm=storm)
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    t0 = time.perf_counter()
    await run_workers(url, f"http://127.0.0.1:{port}", rate, workers=workers, redis_url=redis_url,
                      stop=asyncio.Event(), until_empty=True)
    elapsed = time.perf_counter() - t0
    await runner.cleanup()
    summary = fake.summary([str(i) for i in range(1, count + 1)])
    store = await open_store(url)
    progress = await broadcast_repo(store).progress(bid)
    await store.close()
    return {**summary, "limit_per_second": rate, "percent_of_limit": round(100 * summary["rate_per_second"] / rate, 1),
            "seconds": round(elapsed, 1), "workers": workers, "shared_bucket": "redis" if redis_url else "memory",
            "outbox": progress.counts}


# --- command line ---------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("plan")
    p.add_argument("--db", required=True)
    p.add_argument("--count", type=int, default=1_000_000)
    p.add_argument("--chunk", type=int, default=50_000)
    s = sub.add_parser("send")
    s.add_argument("--db", required=True)
    s.add_argument("--count", type=int, default=20_000)
    s.add_argument("--rate", type=float, default=500.0)
    s.add_argument("--workers", type=int, default=2)
    s.add_argument("--redis")
    s.add_argument("--storm", type=float, default=0.0, help="share of requests answered 429 (0–1)")
    w = sub.add_parser("worker")
    w.add_argument("--db", required=True)
    w.add_argument("--api", required=True)
    w.add_argument("--rate", type=float, default=30.0)
    w.add_argument("--lease", type=float, default=600.0)
    w.add_argument("--redis")
    args = parser.parse_args(argv)
    if args.cmd == "plan":
        result = asyncio.run(bench_plan(args.db, args.count, args.chunk))
    elif args.cmd == "send":
        result = asyncio.run(bench_send(args.db, args.count, args.rate, workers=args.workers,
                                        redis_url=args.redis, storm=args.storm))
    else:
        asyncio.run(run_workers(args.db, args.api, args.rate, workers=1, redis_url=args.redis,
                                stop=asyncio.Event(), lease=args.lease))
        return
    result["at"] = datetime.now(UTC).isoformat(timespec="seconds")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
