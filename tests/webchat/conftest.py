"""A browser's view of the web chat: the app from `create_app` and a websocket client."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient

from bot.context import AppContext
from bot.server import create_app

QUIET = 0.3  # replies to one frame are sent back to back; this much silence ends them
FIRST = 15.0

AppClient = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
async def client(app_ctx: AppContext, aiohttp_client: AppClient) -> TestClient[Any, Any]:
    app: web.Application = await create_app(app_ctx.settings, ctx=app_ctx, workers=False)
    return await aiohttp_client(app)


class WsChat:
    """One browser tab: send frames, read the frames that come back."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.last: list[dict[str, Any]] = []

    async def send(self, frame: dict[str, Any] | str, first: float = FIRST) -> list[dict[str, Any]]:
        """Send a frame; its replies are what arrives before `first` s, then QUIET s of silence."""
        await self.ws.send_str(frame if isinstance(frame, str) else json.dumps(frame))
        return await self.read(first)

    async def read(self, first: float = FIRST) -> list[dict[str, Any]]:
        frames: list[dict[str, Any]] = []
        timeout = first
        while True:
            try:
                msg = await self.ws.receive(timeout=timeout)
            except TimeoutError:
                break
            assert msg.type == WSMsgType.TEXT, f"socket ended: {msg.type} {msg.data!r}"
            frames.append(json.loads(msg.data))
            timeout = QUIET
        self.last = frames
        return frames

    @property
    def text(self) -> str:
        return "\n".join(f.get("text", "") for f in self.last)

    def button(self, label_part: str) -> dict[str, str]:
        for frame in reversed(self.last):
            for row in frame.get("buttons", []):
                for b in row:
                    if label_part.lower() in b["label"].lower():
                        return dict(b)
        labels = [b["label"] for f in self.last for row in f.get("buttons", []) for b in row]
        raise AssertionError(f"no button {label_part!r} in {labels}")

    async def tap(self, label_part: str, **extra: Any) -> list[dict[str, Any]]:
        return await self.send({"payload": self.button(label_part)["payload"], **extra})


@pytest.fixture
def connect(client: TestClient[Any, Any]) -> Callable[[str], Awaitable[WsChat]]:
    async def open_tab(user: str) -> WsChat:
        return WsChat(await client.ws_connect(f"/webchat/ws?user={user}"))

    return open_tab
