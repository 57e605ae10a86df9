"""Benchmark: sustained Telegram updates/s and webhook latency on loopback.

The server under test runs in a child process (the real `setup_telegram` route with the real
engine, dialogs and store; or a bare aiohttp handler answering 200, for reference). The parent
runs a fake Bot API (replies land there) and a closed-loop load generator that posts real-shaped
updates from a pool of users with `--concurrency` requests in flight (Telegram's default
max_connections is 40).

    .venv/bin/python bench/telegram_webhook.py [--seconds 10] [--concurrency 20] [--users 500]

Backends: SQLite + memory always; PostgreSQL + Redis when TIENGDAN_BENCH_DATABASE_URL and
TIENGDAN_BENCH_REDIS_URL are set (the database is migrated; rows are added, never dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SECRET = "bench-secret"
TEXTS = ("menu", "trợ giúp", "xin chào", "/start")


# --- server side (child process) -----------------------------------------------------------


async def _serve(kind: str, api_url: str, db_url: str, redis_url: str | None, media_dir: str,
                 port_q: Any, stop: Any) -> None:
    import logging

    logging.basicConfig(level=logging.ERROR)
    os.environ["PTB_TIMEDELTA"] = "true"
    cleanup = None
    if kind == "bare":
        async def ok(request: web.Request) -> web.Response:
            await request.read()
            return web.Response(text="ok")

        app = web.Application()
        app.router.add_post("/telegram/webhook", ok)
    else:
        from bot.bootstrap import build_context, build_engine
        from bot.config import Settings
        from integrations.telegram import setup_telegram

        settings = Settings(
            database_url=db_url, redis_url=redis_url, media_dir=Path(media_dir),
            telegram_token="123456:TEST-token", telegram_secret=SECRET, telegram_api_url=api_url,
            telegram_rate_per_second=100_000.0, telegram_per_chat_per_second=1000.0,
        )
        ctx = await build_context(settings, load_areas=False, with_nlu=False)
        engine = build_engine(ctx)
        app = web.Application()
        setup_telegram(app, ctx, engine)
        cleanup = ctx.close
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port_q.put(runner.addresses[0][1])
    await asyncio.to_thread(stop.wait)  # a multiprocessing.Event set by the parent
    await runner.cleanup()
    if cleanup is not None:
        await cleanup()


def serve(*args: Any) -> None:
    asyncio.run(_serve(*args))


# --- load generator (parent) ---------------------------------------------------------------


@dataclass
class Result:
    label: str
    requests: int
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]
    replies: int

    def row(self) -> str:
        lat = sorted(self.latencies)
        p50 = statistics.median(lat) * 1000
        p95 = lat[int(len(lat) * 0.95) - 1] * 1000
        p99 = lat[int(len(lat) * 0.99) - 1] * 1000
        codes = ",".join(f"{k}:{v}" for k, v in sorted(self.statuses.items()))
        return (f"{self.label:<28} {self.requests / self.seconds:>9.0f} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f}"
                f"  {codes:<12} {self.replies:>8}")


def update(update_id: int, user_id: int) -> bytes:
    return json.dumps({"update_id": update_id, "message": {
        "message_id": update_id, "date": int(time.time()),
        "from": {"id": user_id, "is_bot": False, "first_name": "Bench", "language_code": "vi"},
        "chat": {"id": user_id, "type": "private", "first_name": "Bench"},
        "text": random.choice(TEXTS)}}).encode()


async def load(url: str, seconds: float, concurrency: int, users: int, base_user: int) -> tuple[int, list[float],
                                                                                                dict[int, int]]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    ids = iter(range(base_user * 10, base_user * 10 + 10**8))
    deadline = time.perf_counter() + seconds
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def worker() -> None:
            while time.perf_counter() < deadline:
                body = update(next(ids), base_user + random.randrange(users))
                started = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                latencies.append(time.perf_counter() - started)
                statuses[response.status] = statuses.get(response.status, 0) + 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(latencies), latencies, statuses


async def run_one(label: str, kind: str, api: Any, args: argparse.Namespace, db_url: str,
                  redis_url: str | None, media_dir: str) -> Result:
    ctx = mp.get_context("spawn")
    port_q, stop = ctx.Queue(), ctx.Event()
    proc = ctx.Process(target=serve, args=(kind, api.url, db_url, redis_url, media_dir, port_q, stop))
    proc.start()
    port = await asyncio.to_thread(port_q.get, True, 120)
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    base_user = random.randrange(10**6, 10**9)
    await load(url, min(2.0, args.seconds), args.concurrency, args.users, base_user)  # warm-up
    mark = len(api.calls)
    started = time.perf_counter()
    count, latencies, statuses = await load(url, args.seconds, args.concurrency, args.users, base_user)
    elapsed = time.perf_counter() - started
    await asyncio.sleep(1.0)  # let queued replies land
    replies = sum(1 for c in api.calls[mark:] if c.method == "sendMessage")
    stop.set()
    await asyncio.to_thread(proc.join, 30)
    return Result(label, count, elapsed, latencies, statuses, replies)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--users", type=int, default=500)
    args = parser.parse_args()

    from tests.telegram.fake_bot_api import FakeBotAPI

    api = FakeBotAPI()
    await api.start()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        media = str(Path(tmp) / "media")
        results.append(await run_one("bare aiohttp 200", "bare", api, args, "", None, media))
        sqlite_url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        results.append(await run_one("telegram sqlite+memory", "telegram", api, args, sqlite_url, None, media))
        pg, redis = os.environ.get("TIENGDAN_BENCH_DATABASE_URL"), os.environ.get("TIENGDAN_BENCH_REDIS_URL")
        if pg and redis:
            results.append(await run_one("telegram postgres+redis", "telegram", api, args, pg, redis, media))
        else:
            print("(PostgreSQL+Redis skipped: set TIENGDAN_BENCH_DATABASE_URL and TIENGDAN_BENCH_REDIS_URL)")
    await api.close()
    print(f"\n{args.seconds:g} s per run, {args.concurrency} concurrent requests, {args.users} users, loopback\n")
    print(f"{'server':<28} {'updates/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  {'statuses':<12} {'replies':>8}")
    for result in results:
        print(result.row())


if __name__ == "__main__":
    asyncio.run(main())
