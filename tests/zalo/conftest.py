"""Zalo tests: the real webhook route, intake worker and channel against a local fake OA API.

`zalo` is the whole channel mounted on an aiohttp test app (real dialogs, real store). A
`ZaloUser` posts signed, real-shaped event JSON to `/zalo/webhook` the way Zalo does, waits
until the intake worker has finished, and reads what the bot sent through the fake API.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.clock import FixedClock
from bot.context import AppContext
from bot.engine import Engine
from bot.store import Store
from integrations.zalo import ZALO_RUNTIME, ZaloRuntime, setup_zalo
from tests.harness import make_context, make_engine
from tests.zalo.fake_zalo import APP_ID, APP_SECRET, FIRST_ACCESS, FIRST_REFRESH, OA_SECRET, Call, FakeZalo

OA_ID = "1646000000000000002"
WEBHOOK = "/zalo/webhook"
_msg_ids = itertools.count(1)
_NUMBERED = re.compile(r"^(\d+)\. (.*)$")


def sign(raw: bytes, timestamp: str, secret: str = OA_SECRET, app_id: str = APP_ID) -> str:
    """Zalo's scheme, written out independently of the code under test."""
    return "mac=" + hashlib.sha256(app_id.encode() + raw + timestamp.encode() + secret.encode()).hexdigest()


def new_msg_id() -> str:
    return f"{next(_msg_ids):032x}"


class Events:
    """Real-shaped Zalo OA webhook events (ids and timestamps are strings, ms epoch)."""

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock

    def base(self, name: str, user: str) -> dict[str, Any]:
        return {"app_id": APP_ID, "sender": {"id": user}, "recipient": {"id": OA_ID}, "event_name": name,
                "timestamp": str(int(self.clock.now().timestamp() * 1000)), "user_id_by_app": "3611" + user}

    def text(self, user: str, text: str, msg_id: str | None = None) -> dict[str, Any]:
        return {**self.base("user_send_text", user), "message": {"text": text, "msg_id": msg_id or new_msg_id()}}

    def media(self, name: str, user: str, type_: str, url: str, **payload: Any) -> dict[str, Any]:
        attachment = {"type": type_, "payload": {"url": url, **payload}}
        return {**self.base(name, user), "message": {"msg_id": new_msg_id(), "attachments": [attachment]}}

    def image(self, user: str, url: str) -> dict[str, Any]:
        return self.media("user_send_image", user, "image", url, thumbnail=url)

    def audio(self, user: str, url: str) -> dict[str, Any]:
        return self.media("user_send_audio", user, "audio", url)

    def location(self, user: str, lat: float, lon: float) -> dict[str, Any]:
        coords = {"latitude": str(lat), "longitude": str(lon)}
        attachment = {"type": "location", "payload": {"coordinates": coords}}
        return {**self.base("user_send_location", user),
                "message": {"msg_id": new_msg_id(), "text": "", "attachments": [attachment]}}

    def sticker(self, user: str) -> dict[str, Any]:
        attachment = {"type": "sticker", "payload": {"id": "bfe4a1c", "url": "https://zalo.me/sticker"}}
        message = {"msg_id": new_msg_id(), "attachments": [attachment]}
        return {**self.base("user_send_sticker", user), "message": message}

    def follow(self, user: str, name: str = "follow") -> dict[str, Any]:
        body = self.base(name, user)
        del body["sender"], body["recipient"]
        return {**body, "oa_id": OA_ID, "follower": {"id": user}, "source": "testing_webhook"}

    def submit_info(self, user: str, phone: str) -> dict[str, Any]:
        info = {"name": "Nguyễn An", "phone": phone, "user_dob": "", "gender": "",
                "full_address": {"user_city": "Huế", "user_ward": "", "user_address": ""}}
        return {**self.base("user_submit_info", user), "info": info}


@pytest.fixture
async def fake_zalo() -> AsyncIterator[FakeZalo]:
    fake = FakeZalo()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


@dataclass
class Zalo:
    client: TestClient  # type: ignore[type-arg]
    fake: FakeZalo
    ctx: AppContext
    engine: Engine
    runtime: ZaloRuntime
    events: Events
    clock: FixedClock

    async def post(self, body: dict[str, Any] | None = None, *, raw: bytes | None = None,
                   signature: str | None = "auto", settle: bool = True) -> int:
        if raw is None:
            raw = json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        if signature == "auto":
            assert body is not None
            headers["X-ZEvent-Signature"] = sign(raw, str(body["timestamp"]))
        elif signature is not None:
            headers["X-ZEvent-Signature"] = signature
        resp = await self.client.post(WEBHOOK, data=raw, headers=headers)
        assert resp.status != 500
        if settle:
            await self.settle()
        return resp.status

    async def settle(self) -> None:
        """Wait until the intake worker has nothing due and nothing running."""
        intake = self.runtime.intake
        for _ in range(100):
            await intake.drain()
            if not await intake.repo.due(1):
                return
        raise AssertionError("intake never settled")

    def user(self, user_id: str) -> ZaloUser:
        return ZaloUser(self, user_id)


class ZaloUser:
    """One Zalo user: sends what a person sends, reads the bot's messages from the fake API."""

    def __init__(self, zalo: Zalo, user_id: str) -> None:
        self.z = zalo
        self.user_id = user_id
        self.last: list[Call] = []

    async def _do(self, body: dict[str, Any]) -> list[Call]:
        before = len(self.z.fake.sends(self.user_id))
        status = await self.z.post(body)
        assert status == 200, status
        self.last = self.z.fake.sends(self.user_id)[before:]
        return self.last

    async def say(self, text: str) -> list[Call]:
        return await self._do(self.z.events.text(self.user_id, text))

    async def follow(self) -> list[Call]:
        return await self._do(self.z.events.follow(self.user_id))

    async def photo(self, url: str) -> list[Call]:
        return await self._do(self.z.events.image(self.user_id, url))

    async def voice(self, url: str) -> list[Call]:
        return await self._do(self.z.events.audio(self.user_id, url))

    async def location(self, lat: float, lon: float) -> list[Call]:
        return await self._do(self.z.events.location(self.user_id, lat, lon))

    async def sticker(self) -> list[Call]:
        return await self._do(self.z.events.sticker(self.user_id))

    async def submit_info(self, phone: str) -> list[Call]:
        return await self._do(self.z.events.submit_info(self.user_id, phone))

    async def tap(self, label_part: str) -> list[Call]:
        """Press a template button (its payload comes back as text) or answer a numbered list."""
        for call in reversed(self.last):
            for button in call.buttons:
                if label_part.lower() in button["title"].lower():
                    assert button["type"] == "oa.query.show"
                    return await self.say(button["payload"])
        for call in reversed(self.last):
            for line in call.text.splitlines():
                m = _NUMBERED.match(line)
                if m and label_part.lower() in m.group(2).lower():
                    return await self.say(m.group(1))
        raise AssertionError(f"no choice {label_part!r} in {[c.message for c in self.last]}")

    @property
    def last_text(self) -> str:
        return "\n".join(c.text for c in self.last)


ZaloFactory = Callable[..., Awaitable[Zalo]]


@pytest.fixture
async def make_zalo(
    store: Store, clock: FixedClock, fake_zalo: FakeZalo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    aiohttp_client: Any,
) -> AsyncIterator[ZaloFactory]:
    """Build the mounted channel; settings overrides as keyword arguments."""
    monkeypatch.setenv("TIENGDAN_ZALO_API_URL", fake_zalo.url)
    monkeypatch.setenv("TIENGDAN_ZALO_OAUTH_URL", fake_zalo.url)
    contexts: list[AppContext] = []

    async def build(router: Any = None, **overrides: Any) -> Zalo:
        settings: dict[str, Any] = {
            "media_dir": tmp_path / "media", "zalo_app_id": APP_ID, "zalo_oa_secret": OA_SECRET,
            "zalo_app_secret": APP_SECRET, "zalo_access_token": FIRST_ACCESS,
            "zalo_refresh_token": FIRST_REFRESH, "zalo_rate_per_second": 0,
            "zalo_signature_max_age_seconds": 600, **overrides,
        }
        ctx = make_context(store, clock, **settings)
        contexts.append(ctx)
        engine = make_engine(ctx, router)
        app = web.Application()
        setup_zalo(app, ctx, engine)
        client = await aiohttp_client(app)
        return Zalo(client, fake_zalo, ctx, engine, app[ZALO_RUNTIME], Events(clock), clock)

    yield build
    for ctx in contexts:  # the store belongs to its own fixture
        await ctx.sessions.close()
        await ctx.dedupe.close()
        await ctx.locks.close()


@pytest.fixture
async def zalo(make_zalo: ZaloFactory) -> Zalo:
    return await make_zalo()
