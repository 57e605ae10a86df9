"""Outbound → Zalo consultation message bodies (pure; images are resolved by the channel).

Limits used (Zalo OA v3, confirm on a real OA): text ≤ 2,000 characters; a text message
carries at most 5 template buttons, title ≤ 100 characters, payload ≤ 1,000 characters;
`request_user_info` title ≤ 100, subtitle ≤ 500. A button of type `oa.query.show` sends its
payload back as the user's text: we send `#p:<payload>` and events.py maps it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.messages import Button, Outbound
from integrations.zalo.events import PAYLOAD_PREFIX

MAX_TEXT = 2000
MAX_BUTTONS = 5
MAX_BUTTON_TITLE = 100
MAX_BUTTON_PAYLOAD = 1000
MAX_INFO_TITLE = 100
MAX_INFO_SUBTITLE = 500
BUTTON_TYPE = "oa.query.show"

Message = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image to send as a media template: an http(s) URL or a path under the media dir."""

    source: str


@dataclass(frozen=True, slots=True)
class MessagePart:
    message: Message


Part = ImagePart | MessagePart


@dataclass(frozen=True, slots=True)
class Hints:
    """Catalog texts the renderer needs, in the user's language."""

    location: str = ""
    contact_title: str = ""
    contact_subtitle: str = ""
    choose: str = ""


def needs_hints(outbound: Outbound) -> bool:
    return outbound.request_location or outbound.request_contact or (
        not outbound.text.strip() and bool(outbound.buttons)
    )


def render(outbound: Outbound, hints: Hints = Hints()) -> list[Part]:
    """The API messages for one Outbound, in the order they are sent."""
    parts: list[Part] = []
    if outbound.image:
        parts.append(ImagePart(outbound.image))
    buttons = outbound.flat_buttons()
    text = outbound.text if outbound.text.strip() or not buttons else hints.choose
    native = 0 < len(buttons) <= MAX_BUTTONS and all(_fits(b) for b in buttons)
    if buttons and not native:
        text = Outbound(text, [buttons]).numbered_text()
    if outbound.request_location and hints.location:
        text = f"{text}\n\n{hints.location}" if text.strip() else hints.location
    chunks = split_text(text) if text.strip() else []
    for i, chunk in enumerate(chunks):
        message: Message = {"text": chunk}
        if native and i == len(chunks) - 1:
            message["attachment"] = {
                "type": "template",
                "payload": {"buttons": [_button(b) for b in buttons]},
            }
        parts.append(MessagePart(message))
    if outbound.request_contact:
        parts.append(MessagePart(request_user_info(hints.contact_title, hints.contact_subtitle)))
    return parts


def request_user_info(title: str, subtitle: str) -> Message:
    element = {"title": title[:MAX_INFO_TITLE], "subtitle": subtitle[:MAX_INFO_SUBTITLE]}
    return {
        "attachment": {
            "type": "template",
            "payload": {"template_type": "request_user_info", "elements": [element]},
        }
    }


def media_message(*, attachment_id: str | None = None, url: str | None = None) -> Message:
    element: dict[str, str] = {"media_type": "image"}
    if attachment_id is not None:
        element["attachment_id"] = attachment_id
    elif url is not None:
        element["url"] = url
    return {"attachment": {"type": "template", "payload": {"template_type": "media", "elements": [element]}}}


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most `limit` characters, cut at a line break or space when there is one."""
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n"), window.rfind(" "))
        if cut < limit // 2:
            cut = limit
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        chunks.append(rest)
    return chunks


def _fits(button: Button) -> bool:
    return len(button.label) <= MAX_BUTTON_TITLE and len(PAYLOAD_PREFIX + button.payload) <= MAX_BUTTON_PAYLOAD


def _button(button: Button) -> dict[str, str]:
    return {"title": button.label, "type": BUTTON_TYPE, "payload": PAYLOAD_PREFIX + button.payload}
