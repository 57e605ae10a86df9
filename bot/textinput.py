"""Cleaning and reading raw user text: control characters, numbered choices, escape words.

Input vocabulary (what users type), not output text, so it lives here rather than in catalogs.
"""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")

_NUMBER_WORDS = {
    "mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5, "sau": 6, "bay": 7, "tam": 8,
    "chin": 9, "muoi": 10, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}

# Whole-message escape words → global payloads handled by the dialogs.
ESCAPES: dict[str, tuple[str, ...]] = {
    "g:cancel": ("huy", "huy bo", "thoi", "cancel", "quit", "dung lai", "khong lam nua", "bo"),
    "g:help": ("tro giup", "giup", "giup do", "help", "huong dan", "?", "/help"),
    "g:menu": ("menu", "bat dau", "trang chu", "quay lai", "start", "/start", "/menu", "back"),
    "g:lang": ("ngon ngu", "language", "english", "tieng anh", "tieng viet", "vietnamese",
               "/language", "/lang"),
    "g:human": ("gap nguoi", "gap can bo", "nhan vien", "can bo", "human", "agent",
                "noi chuyen voi nguoi", "tong dai"),
    "g:stop": ("stop", "huy dang ky", "dung nhan tin", "unsubscribe", "/stop"),
}
_ESCAPE_LOOKUP = {word: payload for payload, words in ESCAPES.items() for word in words}


def clean(text: str | None, max_chars: int) -> tuple[str, bool]:
    """NFC, no control characters, trimmed; returns (text, was_truncated)."""
    if not text:
        return "", False
    text = _CONTROL.sub("", unicodedata.normalize("NFC", text)).strip()
    if len(text) > max_chars:
        return text[:max_chars].rstrip(), True
    return text, False


def fold(text: str) -> str:
    """Lowercase without diacritics ("Hủy bỏ!" → "huy bo"), for matching typed words."""
    text = unicodedata.normalize("NFD", text.lower()).replace("đ", "d").replace("\u0111", "d")
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    text = re.sub(r"[^\w/?]+", " ", text)
    return " ".join(text.split())


def choice_number(text: str) -> int | None:
    """`2`, `2.`, `số 2`, `hai` → 2; anything else → None."""
    folded = fold(text)
    folded = re.sub(r"^(so|chon|number|option)\s+", "", folded)
    if folded.isdigit() and len(folded) <= 2:
        return int(folded)
    return _NUMBER_WORDS.get(folded)


def escape_payload(text: str) -> str | None:
    """The global payload a whole-message escape word stands for, if any."""
    folded = fold(text)
    if text.strip() == "?":
        return "g:help"
    return _ESCAPE_LOOKUP.get(folded)
