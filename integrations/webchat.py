"""Web chat: a page at `GET /` and its websocket at `GET /webchat/ws?user=ID` (frames: DESIGN.md).

Client → server frames become `Inbound(channel="web")`; every reply becomes one frame
`{"text", "buttons", "image"?, "request_location"?}`. Bad frames are answered with
`{"error": code, "text": ...}` and the socket stays open. Frames of one socket are handled in
order; the engine's per-conversation lock orders frames of the same user across sockets.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import html
import json
import logging
import math
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from bot.context import AppContext
from bot.engine import Engine
from bot.errors import WindowClosed
from bot.messages import Contact, Inbound, Location, Media, MediaKind, Outbound
from bot.metrics import Metrics

log = logging.getLogger(__name__)

CHANNEL = "web"
STATIC_DIR = Path(__file__).resolve().parent / "static"
DEFAULT_MAX_FRAME_CHARS = 12 * 1024 * 1024  # answered with an error frame above this
HARD_FRAME_FACTOR = 2  # above max_frame * factor the websocket layer closes the socket (1009)

USER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_TEMPLATE_KEY = re.compile(r"\{\{([a-z0-9_.]+)\}\}")
_DATA_URL = re.compile(r"^data:[\w.+/-]*(;[\w=.+-]+)*;base64,", re.ASCII)
_CONTENT_KEYS = ("text", "payload", "location", "photo", "voice", "contact")
_IMAGE_EXTENSIONS = {".jpg", ".png", ".webp", ".gif", ".heic", ".avif"}
_DUMPS = partial(json.dumps, ensure_ascii=False, separators=(",", ":"))

_NOT_FOR_PAGE = ("web.cli.", "web.console.")  # terminal texts share the catalog, not the page
ERROR_CODES = ("bad_json", "bad_frame", "bad_base64", "bad_location", "too_large", "empty")


class FrameError(Exception):
    """A client frame we refuse; `code` is one of ERROR_CODES (catalog key `web.error.<code>`)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# --- frames → Inbound ----------------------------------------------------------------------


def parse_frame(raw: str, user_id: str, *, max_frame_chars: int, max_media_bytes: int) -> Inbound:
    """One client text frame as an `Inbound`, or FrameError saying what is wrong with it."""
    if len(raw) > max_frame_chars:
        raise FrameError("too_large")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise FrameError("bad_json") from exc
    if not isinstance(data, dict):
        raise FrameError("bad_frame")
    if not any(key in data for key in _CONTENT_KEYS):
        raise FrameError("empty")
    inbound = Inbound(channel=CHANNEL, user_id=user_id, message_id=_message_id(user_id, data.get("id")))
    if "text" in data:
        inbound.text = _str(data["text"], max_len=None)
    if "payload" in data:
        payload = _str(data["payload"], max_len=64)
        if not payload or not payload.isascii():
            raise FrameError("bad_frame")
        inbound.payload = payload
    if "location" in data:
        inbound.location = _location(data["location"])
    if "contact" in data:
        contact = data["contact"]
        if not isinstance(contact, dict):
            raise FrameError("bad_frame")
        phone = _str(contact.get("phone"), max_len=32).strip()
        if not phone:
            raise FrameError("bad_frame")
        inbound.contact = Contact(phone=phone, verified=False)
    for kind in ("photo", "voice"):
        if kind in data:
            inbound.media.append(_media(kind, data[kind], max_media_bytes))
    if "locale" in data:
        inbound.locale_hint = _str(data["locale"], max_len=16) or None
    return inbound


def _message_id(user_id: str, client_id: object) -> str:
    """Client ids are scoped to the user; without one every frame is new."""
    if client_id is None:
        return f"{user_id}:s-{uuid.uuid4().hex}"
    if isinstance(client_id, bool) or not isinstance(client_id, str | int):
        raise FrameError("bad_frame")
    text = str(client_id)
    if not 1 <= len(text) <= 64:
        raise FrameError("bad_frame")
    return f"{user_id}:c-{text}"


def _str(value: object, *, max_len: int | None) -> str:
    if not isinstance(value, str) or (max_len is not None and len(value) > max_len):
        raise FrameError("bad_frame")
    return value


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FrameError("bad_location")
    number = float(value)
    if not math.isfinite(number):
        raise FrameError("bad_location")
    return number


def _location(value: object) -> Location:
    if not isinstance(value, dict):
        raise FrameError("bad_location")
    lat, lon = _number(value.get("lat")), _number(value.get("lon"))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise FrameError("bad_location")
    return Location(lat=lat, lon=lon)


def _media(kind: MediaKind, value: object, max_bytes: int) -> Media:
    if not isinstance(value, str):
        raise FrameError("bad_frame")
    encoded = _DATA_URL.sub("", value, count=1)
    if len(encoded) * 3 // 4 > max_bytes + 3:
        raise FrameError("too_large")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise FrameError("bad_base64") from exc
    if not data:
        raise FrameError("bad_base64")
    return Media(kind=kind, data=data, source_ref=CHANNEL)


# --- Outbound → frames ---------------------------------------------------------------------


def render(message: Outbound, media_dir: Path) -> dict[str, Any]:
    """One reply as a server frame; an image is a public URL or `/media/<sha256>`, else dropped."""
    frame: dict[str, Any] = {
        "text": message.text,
        "buttons": [[{"label": b.label, "payload": b.payload} for b in row] for row in message.buttons],
    }
    if message.image:
        url = image_url(message.image, media_dir)
        if url is not None:
            frame["image"] = url
        else:
            log.warning("reply image not servable; dropped")
    if message.request_location:
        frame["request_location"] = True
    if message.request_contact:
        frame["request_contact"] = True
    return frame


def image_url(image: str, media_dir: Path) -> str | None:
    if image.startswith(("https://", "http://")):
        return image
    try:
        path = Path(image)
        if not path.is_absolute():
            path = media_dir / path
        path = path.resolve()
        path.relative_to(media_dir.resolve())
    except (ValueError, OSError):
        return None
    sha = path.stem
    in_layout = path.parent == media_dir.resolve() / sha[:2] / sha[2:4]  # MediaStore's own layout
    if _SHA256.match(sha) and path.suffix in _IMAGE_EXTENSIONS and in_layout:
        return f"/media/{sha}"
    return None


# --- live connections (the output side for proactive messages) -----------------------------


@dataclass
class WebChannel:
    """Delivers proactive messages to open sockets; nobody connected → WindowClosed (kept for later)."""

    media_dir: Path
    name: str = CHANNEL
    sockets: dict[str, set[web.WebSocketResponse]] = field(default_factory=dict)

    def attach(self, user_id: str, ws: web.WebSocketResponse) -> None:
        self.sockets.setdefault(user_id, set()).add(ws)

    def detach(self, user_id: str, ws: web.WebSocketResponse) -> None:
        group = self.sockets.get(user_id)
        if group is not None:
            group.discard(ws)
            if not group:
                del self.sockets[user_id]

    async def send(self, user_id: str, messages: Sequence[Outbound]) -> None:
        targets = [ws for ws in self.sockets.get(user_id, ()) if not ws.closed]
        if not targets:
            raise WindowClosed("web user not connected")
        delivered = False
        for ws in targets:
            try:
                for message in messages:
                    await ws.send_json(render(message, self.media_dir), dumps=_DUMPS)
                delivered = True
            except (ConnectionError, RuntimeError):
                log.info("web socket gone while sending")
        if not delivered:
            raise WindowClosed("web user not connected")

    async def close_all(self) -> None:
        for group in list(self.sockets.values()):
            for ws in list(group):
                await ws.close()


# --- HTTP handlers -------------------------------------------------------------------------


class WebChat:
    """Route handlers; one instance per app, holding its dependencies."""

    def __init__(self, ctx: AppContext, engine: Engine, *, max_frame_chars: int = DEFAULT_MAX_FRAME_CHARS,
                 static_dir: Path = STATIC_DIR, metrics: Metrics | None = None) -> None:
        self.ctx = ctx
        self.engine = engine
        self.metrics = metrics
        self.max_frame_chars = max_frame_chars
        self.static_dir = static_dir
        self.channel = WebChannel(ctx.settings.media_dir.resolve())
        self._template = (static_dir / "index.html").read_text(encoding="utf-8")

    def _locale(self, request: web.Request) -> str:
        return self.ctx.i18n.normalize_locale(request.query.get("lang"))

    async def page(self, request: web.Request) -> web.Response:
        """The chat page with its interface text rendered from the `web.*` catalog."""
        locale = self._locale(request)
        i18n = self.ctx.i18n
        strings = {key: i18n.t(locale, key) for key in sorted(i18n.keys("vi") | i18n.keys(locale))
                   if key.startswith("web.") and not key.startswith(_NOT_FOR_PAGE)}
        blob = json.dumps(strings, ensure_ascii=False).replace("<", "\\u003c")

        def fill(match: re.Match[str]) -> str:
            key = match.group(1)
            if key == "lang":
                return locale
            if key == "i18n_json":
                return blob
            return html.escape(i18n.t(locale, key))

        body = _TEMPLATE_KEY.sub(fill, self._template)
        return web.Response(text=body, content_type="text/html", charset="utf-8", headers=_PAGE_HEADERS)

    async def media(self, request: web.Request) -> web.StreamResponse:
        """An image the media store holds, by content hash; anything else is 404."""
        sha256 = request.match_info["sha256"]
        if not _SHA256.match(sha256):
            raise web.HTTPNotFound()
        path = await asyncio.to_thread(self.ctx.store.media.path_for, sha256)
        if path is None or path.suffix not in _IMAGE_EXTENSIONS:
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={
            "Cache-Control": "private, max-age=86400, immutable",
            "X-Content-Type-Options": "nosniff",
        })

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        user_id = request.query.get("user", "")
        if not USER_ID.match(user_id):
            raise web.HTTPBadRequest(text="user must be 1-64 characters of A-Z a-z 0-9 _ -")
        locale = self._locale(request)
        ws = web.WebSocketResponse(heartbeat=30.0, max_msg_size=self.max_frame_chars * HARD_FRAME_FACTOR)
        await ws.prepare(request)
        self.channel.attach(user_id, ws)
        log.info("web chat connected user=%s", user_id)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    locale = await self._on_text(ws, user_id, msg.data, locale)
                elif msg.type == WSMsgType.BINARY:
                    if self.metrics is not None:
                        self.metrics.rejected_frames.labels(CHANNEL, "binary").inc()
                    await self._send_error(ws, "bad_frame", locale)
                elif msg.type == WSMsgType.ERROR:
                    log.info("web chat socket error user=%s: %s", user_id, ws.exception())
                    break
        finally:
            self.channel.detach(user_id, ws)
            log.info("web chat disconnected user=%s", user_id)
        return ws

    async def _on_text(self, ws: web.WebSocketResponse, user_id: str, raw: str, locale: str) -> str:
        settings = self.ctx.settings
        try:
            inbound = parse_frame(raw, user_id, max_frame_chars=self.max_frame_chars,
                                  max_media_bytes=settings.max_media_bytes)
        except FrameError as exc:
            log.info("web chat frame refused user=%s code=%s", user_id, exc.code)
            if self.metrics is not None:
                self.metrics.rejected_frames.labels(CHANNEL, exc.code).inc()
            await self._send_error(ws, exc.code, locale)
            return locale
        if inbound.locale_hint:
            locale = self.ctx.i18n.normalize_locale(inbound.locale_hint)
        else:
            inbound.locale_hint = locale
        inbound.received_at = self.ctx.clock.now()
        try:
            replies = await self.engine.handle(inbound)
        except Exception:
            log.exception("web chat handling failed user=%s", user_id)
            replies = [self.engine.error_reply(locale)]
        for reply in replies:
            await self._send(ws, render(reply, self.channel.media_dir))
        return locale

    async def _send_error(self, ws: web.WebSocketResponse, code: str, locale: str) -> None:
        await self._send(ws, {"error": code, "text": self.ctx.i18n.t(locale, f"web.error.{code}")})

    @staticmethod
    async def _send(ws: web.WebSocketResponse, frame: dict[str, Any]) -> None:
        if ws.closed:
            return
        try:
            await ws.send_json(frame, dumps=_DUMPS)
        except (ConnectionError, RuntimeError):
            log.info("web chat socket closed before the reply was sent")


_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: https:; media-src 'self' blob:; "
        "connect-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def setup_webchat(app: web.Application, ctx: AppContext, engine: Engine, *,
                  max_frame_chars: int = DEFAULT_MAX_FRAME_CHARS, metrics: Metrics | None = None) -> WebChat:
    """Add the page, websocket, static files and media routes; register the `web` channel."""
    chat = WebChat(ctx, engine, max_frame_chars=max_frame_chars, metrics=metrics)
    app.router.add_get("/", chat.page)
    app.router.add_get("/webchat/ws", chat.websocket)
    app.router.add_get("/media/{sha256}", chat.media)
    app.router.add_static("/static/", chat.static_dir, name="static")
    ctx.channels.register(chat.channel)

    async def close_sockets(_app: web.Application) -> None:
        await chat.channel.close_all()

    app.on_shutdown.append(close_sockets)
    return chat
