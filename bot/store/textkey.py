"""Diacritic-free search keys for Vietnamese place names ("Thừa Thiên Huế" → "thua thien hue")."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def ascii_key(text: str) -> str:
    """Lowercase, no diacritics (đ → d), words of letters and digits joined by single spaces."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d").replace("Đ", "d"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_ALNUM.sub(" ", stripped).strip()
