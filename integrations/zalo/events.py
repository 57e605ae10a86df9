"""Zalo webhook JSON → a small typed event; pure functions, no I/O.

`parse_event` raises `MalformedEvent` for a known event missing what we need, and returns
None for events we acknowledge without handling (delivery/seen receipts, our own echoes,
names we do not know). Button presses come back as ordinary `user_send_text` messages whose
text starts with `PAYLOAD_PREFIX` (see render.py).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

from bot.messages import Location, MediaKind

PAYLOAD_PREFIX = "#p:"
MAX_PAYLOAD_BYTES = 64

_MEDIA_EVENTS: dict[str, MediaKind] = {
    "user_send_image": "photo",
    "user_send_gif": "photo",
    "user_send_audio": "voice",
    "user_send_file": "file",
    "user_send_video": "file",
}
_ATTACHMENT_KINDS: dict[str, MediaKind] = {
    "image": "photo",
    "gif": "photo",
    "audio": "voice",
    "voice": "voice",
    "file": "file",
    "video": "file",
}
HANDLED = frozenset(
    {
        "user_send_text",
        "user_send_link",
        "user_send_location",
        "user_send_sticker",
        "user_submit_info",
        "follow",
        "unfollow",
        *_MEDIA_EVENTS,
    }
)


class MalformedEvent(ValueError):
    """A known event without the fields we need (answered 400, never stored)."""


@dataclass(frozen=True, slots=True)
class AttachmentRef:
    kind: MediaKind
    url: str
    filename: str | None = None
    size: int | None = None


@dataclass(frozen=True, slots=True)
class ZaloEvent:
    name: str
    user_id: str
    msg_id: str | None = None
    text: str | None = None
    payload: str | None = None
    attachments: tuple[AttachmentRef, ...] = ()
    location: Location | None = None
    phone: str | None = None
    display_name: str | None = None
    event: str | None = None  # Inbound.event: follow | unfollow | sticker


def event_name(body: dict[str, Any]) -> str:
    name = body.get("event_name")
    return name if isinstance(name, str) else ""


def external_id(body: dict[str, Any]) -> str:
    """The dedupe key of an event: its `msg_id`, or a hash of its canonical JSON."""
    message = body.get("message")
    if isinstance(message, dict):
        msg_id = message.get("msg_id")
        if isinstance(msg_id, str) and 0 < len(msg_id) <= 120:
            return msg_id
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "h:" + hashlib.sha256(canonical.encode()).hexdigest()


def user_key(body: dict[str, Any]) -> str:
    """Whose event this is ("" when it names nobody): groups a user's events in order."""
    try:
        return _user_id(body, event_name(body))
    except MalformedEvent:
        return ""


def parse_event(body: dict[str, Any]) -> ZaloEvent | None:
    """The event we act on, None for events we only acknowledge; MalformedEvent when broken."""
    name = event_name(body)
    if name not in HANDLED:
        return None
    user_id = _user_id(body, name)
    message = body.get("message") if isinstance(body.get("message"), dict) else {}
    assert isinstance(message, dict)
    msg_id = external_id(body)

    if name in ("follow", "unfollow"):
        return ZaloEvent(name, user_id, msg_id, event=name)
    if name == "user_send_sticker":
        return ZaloEvent(name, user_id, msg_id, event="sticker")
    if name == "user_submit_info":
        return _submit_info(body, user_id, msg_id)
    if name == "user_send_location":
        return ZaloEvent(name, user_id, msg_id, text=_text(message), location=_location(message))
    if name in _MEDIA_EVENTS:
        attachments = _attachments(message, _MEDIA_EVENTS[name])
        return ZaloEvent(name, user_id, msg_id, text=_text(message), attachments=attachments)
    text = _text(message)
    if text is None:
        raise MalformedEvent("message.text missing")
    payload = payload_of(text)
    if payload is not None:
        return ZaloEvent(name, user_id, msg_id, payload=payload)
    return ZaloEvent(name, user_id, msg_id, text=text)


def payload_of(text: str) -> str | None:
    """The button payload carried by a text, or None for ordinary text."""
    stripped = text.strip()
    if not stripped.startswith(PAYLOAD_PREFIX):
        return None
    payload = stripped[len(PAYLOAD_PREFIX):]
    if not payload or not payload.isascii() or len(payload) > MAX_PAYLOAD_BYTES or " " in payload:
        return None
    return payload


def _user_id(body: dict[str, Any], name: str) -> str:
    keys = ("follower", "sender") if name in ("follow", "unfollow") else ("sender",)
    for key in keys:
        part = body.get(key)
        if isinstance(part, dict):
            value = part.get("id")
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if isinstance(value, str) and 0 < len(value) <= 64:
                return value
    raise MalformedEvent(f"{keys[0]}.id missing")


def _text(message: dict[str, Any]) -> str | None:
    text = message.get("text")
    return text if isinstance(text, str) and text.strip() else None


def _attachments(message: dict[str, Any], default_kind: MediaKind) -> tuple[AttachmentRef, ...]:
    raw = message.get("attachments")
    if not isinstance(raw, list) or not raw:
        raise MalformedEvent("message.attachments missing")
    refs: list[AttachmentRef] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("payload"), dict):
            continue
        payload = item["payload"]
        url = payload.get("url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            continue
        kind = _ATTACHMENT_KINDS.get(str(item.get("type")), default_kind)
        name = payload.get("name")
        size = as_int(payload.get("size"))
        refs.append(AttachmentRef(kind, url, name if isinstance(name, str) else None, size))
    if not refs:
        raise MalformedEvent("no attachment with a usable url")
    return tuple(refs)


def _location(message: dict[str, Any]) -> Location:
    raw = message.get("attachments")
    for item in raw if isinstance(raw, list) else []:
        payload = item.get("payload") if isinstance(item, dict) else None
        coords = payload.get("coordinates") if isinstance(payload, dict) else None
        if isinstance(coords, dict):
            lat, lon = _float(coords.get("latitude")), _float(coords.get("longitude"))
            if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
                return Location(lat, lon)
            raise MalformedEvent("coordinates out of range")
    raise MalformedEvent("location coordinates missing")


def _submit_info(body: dict[str, Any], user_id: str, msg_id: str) -> ZaloEvent:
    info = body.get("info")
    if not isinstance(info, dict):
        raise MalformedEvent("info missing")
    phone = info.get("phone")
    name = info.get("name")
    phone_text = str(phone) if isinstance(phone, str | int) and not isinstance(phone, bool) else None
    return ZaloEvent(
        "user_submit_info",
        user_id,
        msg_id,
        phone=phone_text or None,
        display_name=name if isinstance(name, str) and name.strip() else None,
    )


def _float(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def as_int(value: object) -> int | None:
    """A JSON number or numeric string from Zalo as an int; None for anything else (bools too)."""
    if isinstance(value, bool):
        return None
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
