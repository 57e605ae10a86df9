"""Benchmark: messages/s and per-message latency through `Engine.handle`, with two ceilings.

A realistic mix per simulated citizen, all by buttons (no NLU): onboarding (5 messages), menu
taps, "my reports" status checks and one full report (category, skip description, a photo,
photos done, a location, submit = 7 messages). `--users` citizens run concurrently, each one
message at a time (a person waits for the reply).

Lines printed:
* engine (SQLite + memory)            Engine.handle called in-process
* engine (PostgreSQL + Redis)         when TIENGDAN_BENCH_DATABASE_URL / TIENGDAN_TEST_DATABASE_URL
                                      and TIENGDAN_BENCH_REDIS_URL / TIENGDAN_TEST_REDIS_URL are set
                                      (uses a separate `<db>_bench` database when it may create one)
* web chat websocket (SQLite+memory)  the same mix as JSON frames through the real server
* bare aiohttp websocket echo         the ceiling: the same number of frames, echoed, same machine

    .venv/bin/python bench/engine.py [--users 40] [--rounds 2] [--json bench/out/engine.json]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import logging
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient, TestServer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.bootstrap import build_context, build_engine, close_context
from bot.config import Settings
from bot.context import AppContext
from bot.messages import Inbound, Location, Media, Outbound

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + os.urandom(2048) + b"\xff\xd9"
HUE = (16.4637, 107.5909)

# One citizen's script: (kind, value). kind: text | payload | photo | location.
ONBOARDING = [("text", "xin chào"), ("payload", "onb:lang:vi"), ("payload", "onb:consent:yes"),
              ("payload", "area:skip"), ("payload", "onb:anon:named")]
REPORT = [("payload", "report:start"), ("payload", "report:cat:traffic_roads"), ("payload", "report:skipdesc"),
          ("photo", ""), ("payload", "report:photosdone"), ("location", ""), ("payload", "report:submit")]
ROUND = [("payload", "g:menu"), ("payload", "status:mine"), *REPORT, ("payload", "g:menu"),
         ("payload", "status:mine")]


@dataclass
class Result:
    name: str
    messages: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


def summarize(name: str, latencies: list[float], seconds: float, errors: int) -> Result:
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else 0.0

    return Result(name, len(latencies), seconds, pct(0.50), pct(0.95), pct(0.99), errors)


def script(rounds: int) -> list[tuple[str, str]]:
    return ONBOARDING + ROUND * rounds


# --- engine in-process ---------------------------------------------------------------------


def inbound_for(user: str, step: int, kind: str, value: str) -> Inbound:
    inbound = Inbound(channel="bench", user_id=user, message_id=f"{user}-{step}")
    if kind == "text":
        inbound.text = value
    elif kind == "payload":
        inbound.payload = value
    elif kind == "photo":
        inbound.media = [Media("photo", data=JPEG, mime="image/jpeg")]
    elif kind == "location":
        inbound.location = Location(*HUE)
    return inbound


def check(replies: list[Outbound], kind: str, value: str) -> bool:
    """A reply arrived and, for a submit, it carries the case code."""
    if not replies:
        return False
    if value == "report:submit":
        return any(any(ch.isdigit() for ch in r.text) for r in replies)
    return True


async def bench_engine(name: str, ctx: AppContext, users: int, rounds: int) -> Result:
    engine = build_engine(ctx)
    steps = script(rounds)
    latencies: list[float] = []
    errors = 0
    run = uuid.uuid4().hex[:6]

    async def citizen(n: int) -> None:
        nonlocal errors
        user = f"{run}-{n}"
        for i, (kind, value) in enumerate(steps):
            started = time.perf_counter()
            try:
                replies = await engine.handle(inbound_for(user, i, kind, value))
                ok = check(replies, kind, value)
            except Exception:
                logging.exception("engine failed")
                ok = False
            latencies.append(time.perf_counter() - started)
            errors += 0 if ok else 1

    await citizen(-1)  # warm-up (area index, catalogs, connection pool): not counted
    latencies.clear()
    errors = 0
    started = time.perf_counter()
    await asyncio.gather(*(citizen(n) for n in range(users)))
    return summarize(name, latencies, time.perf_counter() - started, errors)


# --- over the web chat websocket -----------------------------------------------------------


def frame_for(kind: str, value: str, step: int) -> str:
    frame: dict[str, Any] = {"id": str(step)}
    if kind == "text":
        frame["text"] = value
    elif kind == "payload":
        frame["payload"] = value
    elif kind == "photo":
        frame["photo"] = base64.b64encode(JPEG).decode()
    elif kind == "location":
        frame["location"] = {"lat": HUE[0], "lon": HUE[1]}
    return json.dumps(frame)


async def read_replies(ws: Any, first_timeout: float = 30.0) -> int:
    """Frames for one message: the first, then whatever follows within a short gap."""
    count = 0
    timeout = first_timeout
    while True:
        try:
            msg = await ws.receive(timeout=timeout)
        except TimeoutError:
            return count
        if msg.type != WSMsgType.TEXT:
            return count
        count += 1
        timeout = 0.002  # replies to one frame are written back to back


async def bench_websocket(name: str, app: web.Application, users: int, rounds: int,
                          frames: Callable[[int], list[str]], reply_reader: Callable[[Any], Awaitable[int]]
                          ) -> Result:
    latencies: list[float] = []
    errors = 0
    async with TestClient(TestServer(app)) as client:
        run = uuid.uuid4().hex[:6]

        async def citizen(n: int) -> None:
            nonlocal errors
            ws = await client.ws_connect(f"/webchat/ws?user=b{run}-{n}", max_msg_size=32 * 1024 * 1024)
            for frame in frames(n):
                started = time.perf_counter()
                await ws.send_str(frame)
                got = await reply_reader(ws)
                latencies.append(time.perf_counter() - started)
                errors += 0 if got else 1
            await ws.close()

        started = time.perf_counter()
        await asyncio.gather(*(citizen(n) for n in range(users)))
        seconds = time.perf_counter() - started
    return summarize(name, latencies, seconds, errors)


def echo_app() -> web.Application:
    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=32 * 1024 * 1024)
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await ws.send_str(msg.data)
        return ws

    app = web.Application()
    app.router.add_get("/webchat/ws", echo)
    return app


async def read_one(ws: Any) -> int:
    msg = await ws.receive(timeout=30)
    return 1 if msg.type == WSMsgType.TEXT else 0


# --- set-up --------------------------------------------------------------------------------


async def pg_bench_url(url: str) -> str:
    """`<db>_bench` next to the given database when we may create it, else the given one."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    parsed = make_url(url)
    name = f"{parsed.database or 'tiengdan'}_bench"
    admin = create_async_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            exists = await conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            if not exists:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
        return parsed.set(database=name).render_as_string(hide_password=False)
    except Exception as exc:
        print(f"(using {parsed.database} itself: cannot create {name}: {type(exc).__name__})")
        return url
    finally:
        await admin.dispose()


def env(*names: str) -> str | None:
    return next((os.environ[n] for n in names if os.environ.get(n)), None)


async def main(args: argparse.Namespace) -> list[Result]:
    results: list[Result] = []
    steps = script(args.rounds)
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = Settings(database_url=f"sqlite+aiosqlite:///{tmp}/bench.db", media_dir=Path(tmp) / "media",
                          redis_url=None)
        print(f"{args.users} citizens × {len(steps)} messages each; preparing SQLite…", flush=True)
        ctx = await build_context(sqlite, with_nlu=False)
        try:
            results.append(await bench_engine("engine: SQLite + memory", ctx, args.users, args.rounds))
            from bot.server import create_app

            app = await create_app(sqlite, ctx=ctx, workers=False)
            results.append(await bench_websocket(
                "web chat websocket: SQLite + memory", app, args.users, args.rounds,
                lambda n: [frame_for(k, v, i) for i, (k, v) in enumerate(steps)], read_replies))
        finally:
            await close_context(ctx)

        db = env("TIENGDAN_BENCH_DATABASE_URL", "TIENGDAN_TEST_DATABASE_URL")
        redis = env("TIENGDAN_BENCH_REDIS_URL", "TIENGDAN_TEST_REDIS_URL")
        if db and redis:
            print("preparing PostgreSQL + Redis…", flush=True)
            pg = Settings(database_url=await pg_bench_url(db), redis_url=redis, media_dir=Path(tmp) / "media")
            ctx = await build_context(pg, with_nlu=False)
            try:
                results.append(await bench_engine("engine: PostgreSQL + Redis", ctx, args.users, args.rounds))
            finally:
                await close_context(ctx)
        else:
            print("(PostgreSQL + Redis skipped: set TIENGDAN_TEST_DATABASE_URL and TIENGDAN_TEST_REDIS_URL)")

        echo_frames = [frame_for(k, v, i) for i, (k, v) in enumerate(steps)]
        results.append(await bench_websocket("bare aiohttp websocket echo (ceiling)", echo_app(), args.users,
                                             args.rounds, lambda n: echo_frames, read_one))
    return results


def report(results: list[Result]) -> None:
    print()
    print(f"{'':40} {'msgs':>6} {'msg/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6}")
    for r in results:
        print(f"{r.name:40} {r.messages:6d} {r.rate:8.1f} {r.p50_ms:8.1f} {r.p95_ms:8.1f} {r.p99_ms:8.1f} "
              f"{r.errors:6d}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=40, help="concurrent citizens")
    parser.add_argument("--rounds", type=int, default=2, help="menu/status/report rounds per citizen")
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    outcome = asyncio.run(main(arguments))
    report(outcome)
    if arguments.json:
        arguments.json.parent.mkdir(parents=True, exist_ok=True)
        arguments.json.write_text(json.dumps([{**asdict(r), "rate": r.rate} for r in outcome], indent=2))
    sys.exit(1 if any(r.errors for r in outcome) else 0)
