"""Telegram tests: the real webhook route and channel against a local fake Bot API.

`tg` is the whole channel mounted on an aiohttp test app (real dialogs, real store); a
`TgUser` posts real-shaped Update JSON to `/telegram/webhook` the way Telegram would and reads
back what the bot sent through the fake API.
"""

from __future__ import annotations

import io
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.clock import FixedClock
from bot.context import AppContext
from bot.engine import Engine
from bot.store import Store
from integrations.telegram import TelegramChannel, setup_telegram
from tests.harness import JPEG, OGG, make_context, make_engine
from tests.telegram.fake_bot_api import BOT_ID, Call, FakeBotAPI

SECRET = "test-secret_123"
WEBHOOK = "/telegram/webhook"

_update_ids = itertools.count(500_000)


def next_update_id() -> int:
    return next(_update_ids)


@pytest.fixture(autouse=True)
def ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's timedelta durations: otherwise PTB warns (an error here) on every 429."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotAPI]:
    api = FakeBotAPI()
    await api.start()
    try:
        yield api
    finally:
        await api.close()


@dataclass
class Tg:
    client: TestClient  # type: ignore[type-arg]
    api: FakeBotAPI
    ctx: AppContext
    engine: Engine
    channel: TelegramChannel

    async def post(self, update: Any, *, secret: str | None = SECRET, raw: bytes | None = None) -> int:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        if raw is None:
            import json

            raw = json.dumps(update).encode()
        body: Any = io.BytesIO(raw) if len(raw) > 1024 * 1024 else raw
        response = await self.client.post(WEBHOOK, data=body, headers=headers)
        await response.read()
        return response.status

    def user(self, user_id: int = 111, first_name: str = "An", language_code: str = "vi") -> TgUser:
        return TgUser(self, user_id, first_name, language_code)


def tg_context(store: Store, clock: FixedClock, api: FakeBotAPI, media_dir: Path, **settings: Any) -> AppContext:
    options: dict[str, Any] = {
        "telegram_token": api.token, "telegram_secret": SECRET, "telegram_api_url": api.url,
        "media_dir": media_dir, "telegram_per_chat_per_second": 1000.0, "telegram_rate_per_second": 10000.0,
    }
    options.update(settings)
    return make_context(store, clock, **options)


async def mount(aiohttp_client: Any, api: FakeBotAPI, store: Store, clock: FixedClock, tmp_path: Path,
                *, redis_url: str | None = None) -> Tg:
    """The Telegram channel on a test aiohttp app; Redis-backed (sessions, dedupe, limits) if given."""
    from aiohttp import web
    from redis.asyncio import Redis

    ctx = tg_context(store, clock, api, tmp_path / "media", redis_url=redis_url)
    if redis_url:
        ctx.redis = Redis.from_url(redis_url)
    engine = make_engine(ctx)
    app = web.Application()
    channel = setup_telegram(app, ctx, engine)
    client = await aiohttp_client(app)
    return Tg(client, api, ctx, engine, channel)


async def unmount(tg: Tg) -> None:
    await tg.channel.drain(5)
    await tg.client.close()
    await tg.ctx.sessions.close()
    await tg.ctx.dedupe.close()
    await tg.ctx.locks.close()
    if tg.ctx.redis is not None:
        await tg.ctx.redis.aclose()


@pytest.fixture
async def tg(aiohttp_client: Any, fake_api: FakeBotAPI, store: Store, clock: FixedClock,
             tmp_path: Path) -> AsyncIterator[Tg]:
    harness = await mount(aiohttp_client, fake_api, store, clock, tmp_path)
    yield harness
    await unmount(harness)


@pytest.fixture
async def tg_redis(aiohttp_client: Any, fake_api: FakeBotAPI, store: Store, clock: FixedClock,
                   tmp_path: Path, redis_url: str) -> AsyncIterator[Tg]:
    harness = await mount(aiohttp_client, fake_api, store, clock, tmp_path, redis_url=redis_url)
    yield harness
    await unmount(harness)


class TgUser:
    """One Telegram user in a private chat with the bot."""

    def __init__(self, tg: Tg, user_id: int, first_name: str, language_code: str) -> None:
        self.tg = tg
        self.id = user_id
        self.sender = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": language_code}
        self.chat = {"id": user_id, "type": "private", "first_name": first_name}
        self._message_ids = itertools.count(1)
        self.last: list[Call] = []
        self.last_status = 0

    # --- building updates ------------------------------------------------------------------
    def message_update(self, **content: Any) -> dict[str, Any]:
        message = {"message_id": next(self._message_ids), "from": self.sender, "chat": self.chat,
                   "date": int(time.time()), **content}
        return {"update_id": next_update_id(), "message": message}

    def callback_update(self, data: str, message_id: int = 1) -> dict[str, Any]:
        query = {
            "id": f"cq-{next_update_id()}",
            "from": self.sender,
            "chat_instance": "-123456789",
            "data": data,
            "message": {"message_id": message_id, "from": {"id": BOT_ID, "is_bot": True, "first_name": "Bot"},
                        "chat": self.chat, "date": int(time.time()), "text": "..."},
        }
        return {"update_id": next_update_id(), "callback_query": query}

    # --- acting ----------------------------------------------------------------------------
    async def send(self, update: dict[str, Any]) -> list[Call]:
        """Post the update, wait for the replies, return the messages the bot sent to us."""
        mark = self.tg.api.mark()
        self.last_status = await self.tg.post(update)
        await self.tg.channel.drain(10)
        self.last = [c for c in self.tg.api.since(mark)
                     if c.method in ("sendMessage", "sendPhoto") and c.chat_id == self.id]
        return self.last

    async def say(self, text: str) -> list[Call]:
        return await self.send(self.message_update(text=text))

    async def press(self, data: str) -> list[Call]:
        return await self.send(self.callback_update(data))

    async def tap(self, label_part: str) -> list[Call]:
        """Press an inline button (a callback) or a reply-keyboard button (its label as text)."""
        button = self.button(label_part)
        if "callback_data" in button:
            return await self.send(self.callback_update(button["callback_data"]))
        return await self.say(button["text"])

    async def photo(self, data: bytes = JPEG, caption: str | None = None) -> list[Call]:
        n = next_update_id()
        sizes = []
        for i, (w, h) in enumerate([(90, 67), (320, 240), (1280, 960)]):
            file_id = f"photo-{n}-{i}"
            self.tg.api.add_file(file_id, data)
            sizes.append({"file_id": file_id, "file_unique_id": f"pu-{n}-{i}", "width": w, "height": h,
                          "file_size": len(data)})
        extra = {"caption": caption} if caption else {}
        return await self.send(self.message_update(photo=sizes, **extra))

    async def voice(self, data: bytes = OGG) -> list[Call]:
        file_id = f"voice-{next_update_id()}"
        self.tg.api.add_file(file_id, data)
        voice = {"file_id": file_id, "file_unique_id": f"u-{file_id}", "duration": 3,
                 "mime_type": "audio/ogg", "file_size": len(data)}
        return await self.send(self.message_update(voice=voice))

    async def location(self, lat: float, lon: float) -> list[Call]:
        return await self.send(self.message_update(location={"latitude": lat, "longitude": lon}))

    # --- reading ---------------------------------------------------------------------------
    @property
    def texts(self) -> str:
        return "\n".join(c.text or "" for c in self.last)

    def button(self, label_part: str) -> dict[str, Any]:
        """The latest prompt's button (inline or reply keyboard) whose label contains `label_part`."""
        for call in reversed(self.last):
            for b in call.inline_buttons() + call.keyboard_buttons():
                if label_part.lower() in b["text"].lower():
                    return b
        labels = [b["text"] for c in self.last for b in c.inline_buttons() + c.keyboard_buttons()]
        raise AssertionError(f"no button with {label_part!r} in {labels}")
