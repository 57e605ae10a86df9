"""Drive whole conversations through the engine the way a user would.

`Chat` sends what a person sends (text, a button tap, a photo, a location) and keeps what the
bot answered, so a test reads like the conversation it checks:

    chat = Chat(engine, "web", "u1")
    await chat.say("xin chào")
    await chat.tap("Tiếng Việt")          # a button of the last prompt, by (part of) its label
    await chat.photo(JPEG)
    assert "Mã phản ánh" in chat.last_text

`file_report` / `draft_report` walk the usual "file a report by buttons" path for any user object
with say/tap/photo/location (the harness `Chat`, the Telegram `TgUser`); `context_for` and
`app_client` are the bodies of the `ctx` / `client` fixtures several packages share.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

from aiohttp.test_utils import TestClient

from bot.channels import ChannelRegistry
from bot.clock import Clock
from bot.config import Settings
from bot.context import AppContext
from bot.dedupe import MemoryDeduper, RedisDeduper
from bot.engine import Engine
from bot.i18n import Catalogs
from bot.locks import MemoryLocks, RedisLocks
from bot.messages import Button, Contact, Inbound, Location, Media, Outbound
from bot.router import Router
from bot.sessions import MemorySessionStore, RedisSessionStore
from bot.store import Store

# Smallest valid files of each kind (magic bytes are what the media store checks).
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
OGG = b"OggS\x00\x02" + b"\x00" * 60

# Places the report tests drop a pin on (both resolve to a known commune).
HANOI = (21.0285, 105.8542)
HUE = (16.4637, 107.5909)


def make_context(store: Store, clock: Clock, *, redis_url: str | None = None, nlu: Any = None,
                 **settings: Any) -> AppContext:
    cfg = Settings(redis_url=redis_url, **settings)
    if redis_url:
        sessions: Any = RedisSessionStore.from_url(redis_url)
        dedupe: Any = RedisDeduper.from_url(redis_url)
        locks: Any = RedisLocks.from_url(redis_url)
    else:
        sessions, dedupe, locks = MemorySessionStore(), MemoryDeduper(), MemoryLocks()
    return AppContext(settings=cfg, clock=clock, store=store, sessions=sessions, dedupe=dedupe,
                      locks=locks, i18n=Catalogs(default_locale=cfg.default_locale), nlu=nlu,
                      channels=ChannelRegistry())


@asynccontextmanager
async def context_for(store: Store, clock: Clock, **settings: Any) -> AsyncIterator[AppContext]:
    """`make_context` for a fixture: its session store is closed when the test is done."""
    context = make_context(store, clock, **settings)
    try:
        yield context
    finally:
        await context.sessions.close()


async def app_client(ctx: AppContext, aiohttp_client: Any) -> TestClient[Any, Any]:
    """The whole web app on `ctx` (no background workers), served to an aiohttp test client."""
    from bot.server import create_app

    app = await create_app(ctx.settings, ctx=ctx, workers=False)
    client: TestClient[Any, Any] = await aiohttp_client(app)
    return client


def make_engine(ctx: AppContext, router: Router | None = None) -> Engine:
    if router is None:
        from dialogs import build_router

        router = build_router()
    return Engine(ctx, router)


class Chat:
    """One user on one channel talking to the engine."""

    _ids = itertools.count(1)

    def __init__(self, engine: Engine, channel: str = "web", user_id: str = "u1",
                 display_name: str | None = None) -> None:
        self.engine = engine
        self.channel = channel
        self.user_id = user_id
        self.display_name = display_name
        self.history: list[Outbound] = []
        self.last: list[Outbound] = []

    async def send(self, **fields: Any) -> list[Outbound]:
        fields.setdefault("message_id", f"m{next(self._ids)}")
        inbound = Inbound(channel=self.channel, user_id=self.user_id, display_name=self.display_name,
                          **fields)
        self.last = await self.engine.handle(inbound)
        self.history.extend(self.last)
        return self.last

    async def say(self, text: str) -> list[Outbound]:
        return await self.send(text=text)

    async def press(self, payload: str) -> list[Outbound]:
        return await self.send(payload=payload)

    async def tap(self, label_part: str) -> list[Outbound]:
        """Tap the button of the latest prompt whose label contains `label_part`."""
        return await self.press(self.button(label_part).payload)

    async def photo(self, data: bytes = JPEG, mime: str = "image/jpeg") -> list[Outbound]:
        return await self.send(media=[Media("photo", data=data, mime=mime)])

    async def voice(self, data: bytes = OGG) -> list[Outbound]:
        return await self.send(media=[Media("voice", data=data, mime="audio/ogg")])

    async def location(self, lat: float, lon: float) -> list[Outbound]:
        return await self.send(location=Location(lat, lon))

    async def contact(self, phone: str, verified: bool = True) -> list[Outbound]:
        return await self.send(contact=Contact(phone, verified))

    # --- reading what the bot said -------------------------------------------------------
    @property
    def last_text(self) -> str:
        return "\n".join(m.text for m in self.last)

    @property
    def buttons(self) -> list[Button]:
        for message in reversed(self.last):
            if message.buttons:
                return message.flat_buttons()
        return []

    def labels(self) -> list[str]:
        return [b.label for b in self.buttons]

    def button(self, label_part: str) -> Button:
        for b in self.buttons:
            if label_part.lower() in b.label.lower():
                return b
        raise AssertionError(f"no button with {label_part!r} in {self.labels()}")


class Reporter(Protocol):
    """What the report helpers need of a user: `Chat` and the Telegram `TgUser` both fit."""

    async def say(self, text: str) -> Sequence[Any]: ...

    async def tap(self, label_part: str) -> Sequence[Any]: ...

    async def photo(self, data: bytes = ...) -> Sequence[Any]: ...

    async def location(self, lat: float, lon: float) -> Sequence[Any]: ...


async def draft_report(user: Reporter, *, category_label: str = "Y tế", description: str | None = None,
                       photo: bool = False, location: tuple[float, float] = HANOI) -> None:
    """From the main menu to the "send this report?" prompt by buttons: category, description
    (typed, or skipped when None), one photo or none, a location pin."""
    await user.tap("Gửi phản ánh")
    await user.tap(category_label)
    if description is None:
        await user.tap("Bỏ qua")
    else:
        await user.say(description)
    if photo:
        await user.photo(JPEG)
        await user.tap("Xong")
    else:
        await user.tap("Không có ảnh")
    await user.location(*location)


async def file_report(user: Reporter, *, category_label: str = "Y tế", description: str | None = None,
                      photo: bool = False, location: tuple[float, float] = HANOI) -> str:
    """`draft_report`, then send it. The case code the bot answered with ("1234 5678")."""
    await draft_report(user, category_label=category_label, description=description, photo=photo,
                       location=location)
    replies = await user.tap("Gửi")
    found = re.search(r"\d{4} \d{4}", "\n".join(m.text or "" for m in replies))
    assert found, "no case code in the answer to sending the report"
    return found.group(0)
