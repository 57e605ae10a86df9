"""Phone numbers: normalised to E.164 and kept only as a salted hash (for matching, not contact)."""

from __future__ import annotations

import hashlib
import re

from bot.errors import InvalidInput

_SEPARATORS = re.compile(r"[\s.\-()]")


def normalize_phone(raw: str, default_country: str = "84") -> str:
    """`0912 345 678`, `84912345678`, `+84-912-345-678` → `+84912345678`.

    Raises InvalidInput("phone.invalid") for anything that is not a plausible number.
    """
    text = _SEPARATORS.sub("", raw.strip())
    if text.startswith("00"):
        text = "+" + text[2:]
    if text.startswith("+"):
        digits = text[1:]
    elif text.startswith("0"):
        digits = default_country + text[1:]
    elif text.startswith(default_country) and len(text) >= len(default_country) + 9:
        digits = text
    else:
        digits = default_country + text
    if not digits.isdigit() or not 8 <= len(digits) <= 15 or digits.startswith("0"):
        raise InvalidInput("phone.invalid")
    if digits.startswith("84") and len(digits) not in (11, 12):  # VN: 9 (mobile) or 10 digits
        raise InvalidInput("phone.invalid")
    return "+" + digits


def hash_phone(e164: str, salt: str) -> str:
    """Salted SHA-256 (hex) of a normalised number; the number itself is never stored."""
    return hashlib.sha256(f"{salt}:{e164}".encode()).hexdigest()
