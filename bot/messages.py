"""Channel-neutral messages: what every channel turns its updates into, and what it renders back.

Channels (integrations/) build `Inbound` from their webhook format and render `Outbound`
natively (inline keyboards, Zalo templates, web chat frames) or as numbered text.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

MediaKind = Literal["photo", "voice", "audio", "file"]


@dataclass(frozen=True, slots=True)
class Button:
    """One choice. `payload` is ASCII and at most 64 bytes (Telegram's callback_data limit)."""

    label: str
    payload: str


@dataclass(frozen=True, slots=True)
class Location:
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Contact:
    phone: str
    verified: bool = False  # the platform vouches that this is the sender's own number


@dataclass(slots=True)
class Media:
    """A photo, voice note or file sent by the user.

    Channels download the bytes before handing the message over (`data`); when a download
    fails, `data` stays None and `error` says why, so the report is kept with a note.
    """

    kind: MediaKind
    data: bytes | None = None
    mime: str | None = None
    filename: str | None = None
    source_ref: str | None = None  # channel file id or URL, for the record
    error: str | None = None


@dataclass(slots=True)
class Inbound:
    """One message from a user, whatever the channel."""

    channel: str
    user_id: str  # the channel's stable numeric/opaque user id, never a username
    message_id: str | None = None  # for de-duplication; None disables it
    text: str | None = None
    payload: str | None = None  # a pressed button's payload
    media: list[Media] = field(default_factory=list)
    location: Location | None = None
    contact: Contact | None = None
    display_name: str | None = None
    locale_hint: str | None = None  # e.g. Telegram's language_code
    received_at: datetime | None = None
    event: str | None = None  # platform events without content: "follow", "unfollow", "sticker"

    @property
    def conversation_key(self) -> str:
        return f"{self.channel}:{self.user_id}"


@dataclass(slots=True)
class Outbound:
    """One message to a user. Only `text` is mandatory for a channel to support."""

    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    image: str | None = None  # a path under the media dir or an http(s) URL
    request_location: bool = False
    request_contact: bool = False

    def flat_buttons(self) -> list[Button]:
        return [b for row in self.buttons for b in row]

    def numbered_text(self) -> str:
        """The text followed by the choices as `1. label` lines, for channels without buttons."""
        buttons = self.flat_buttons()
        if not buttons:
            return self.text
        lines = [self.text, ""]
        lines += [f"{i}. {b.label}" for i, b in enumerate(buttons, start=1)]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        return {k: v for k, v in data.items() if v not in (None, False, [])}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outbound:
        rows = [[Button(**b) for b in row] for row in data.get("buttons", [])]
        return cls(
            text=data["text"],
            buttons=rows,
            image=data.get("image"),
            request_location=bool(data.get("request_location", False)),
            request_contact=bool(data.get("request_contact", False)),
        )
