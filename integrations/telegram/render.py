"""Outbound → Bot API pieces: text chunks within Telegram's limits and keyboards.

Pure functions, no I/O: the channel decides when and how to send them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from bot.messages import Button

log = logging.getLogger(__name__)

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Chunks of at most `limit` characters, cut at paragraph, then line, then word boundaries."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    chunks: list[str] = []
    current = ""
    for piece in _pieces(text, limit):
        candidate = f"{current}{piece}" if current else piece.lstrip("\n ")
        if len(candidate.rstrip()) <= limit:
            current = candidate
            continue
        if current.strip():
            chunks.append(current.rstrip())
        current = piece.lstrip("\n ")
    if current.strip():
        chunks.append(current.rstrip())
    return chunks


def _pieces(text: str, limit: int) -> list[str]:
    """The text cut into pieces no longer than `limit`, each keeping its leading separator."""
    out: list[str] = []
    for sep in ("\n\n", "\n", " "):
        if sep in text:
            parts = text.split(sep)
            for i, part in enumerate(parts):
                piece = part if i == 0 else sep + part
                if len(piece) <= limit:
                    out.append(piece)
                    continue
                if i:
                    out.append(sep)
                out.extend(_pieces(part, limit))  # `part` holds no `sep`: recursion ends
            return out
    return [text[i:i + limit] for i in range(0, len(text), limit)]


def valid_payload(payload: str) -> bool:
    """callback_data must be 1–64 bytes; we also insist on ASCII (see bot.messages.Button)."""
    return payload.isascii() and 0 < len(payload.encode()) <= CALLBACK_DATA_LIMIT


def inline_keyboard(rows: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup | None:
    """Buttons as an inline keyboard; a button Telegram would refuse is dropped and logged."""
    keyboard: list[list[InlineKeyboardButton]] = []
    for row in rows:
        out_row = []
        for button in row:
            if not valid_payload(button.payload) or not button.label.strip():
                log.warning("dropping button with invalid payload %r", button.payload[:80])
                continue
            out_row.append(InlineKeyboardButton(button.label[:200], callback_data=button.payload))
        if out_row:
            keyboard.append(out_row)
    return InlineKeyboardMarkup(keyboard) if keyboard else None


LOCATION_ICON = "📍"  # catalog convention: a choice that shares the location starts with it


def request_keyboard(rows: Sequence[Sequence[Button]], *, location_label: str | None,
                     contact_label: str | None) -> ReplyKeyboardMarkup:
    """A reply keyboard: the location/contact request first, then the choices as plain buttons.

    Pressing a plain button sends its label as text; the channel maps it back to the payload
    through the last prompt the engine remembered.
    """
    keyboard: list[list[KeyboardButton]] = []
    if location_label:
        # The dialog's own "📍 …" choice becomes the location request, so there is only one.
        own = next((b for row in rows for b in row if b.label.startswith(LOCATION_ICON)), None)
        if own is not None:
            location_label = own.label[:200]
            rows = [[b for b in row if b is not own] for row in rows]
        keyboard.append([KeyboardButton(location_label, request_location=True)])
    if contact_label:
        keyboard.append([KeyboardButton(contact_label, request_contact=True)])
    for row in rows:
        labels = [KeyboardButton(b.label[:200]) for b in row if b.label.strip()]
        if labels:
            keyboard.append(labels)
    return ReplyKeyboardMarkup(keyboard, resize_keyboard=True, one_time_keyboard=True)
