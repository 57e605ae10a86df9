"""Case codes: 8 digits, the last a Damm check digit, shown as `1234 5678`.

Digits are the easiest thing to read aloud and to type on a phone keypad; the check digit
catches every single-digit typo and every swap of neighbours; the 7 random digits make codes
unguessable in sequence. Pure text functions, shared by the store and the NLU.
"""

from __future__ import annotations

import re
import secrets

_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

# 8 digits, optionally split 4+4 by a space, dot or dash; not part of a longer number.
CODE_PATTERN = re.compile(r"(?<![\d])(\d{4})[ .\-]?(\d{4})(?![\d])")


def damm_digit(digits: str) -> int:
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][int(ch)]
    return interim


def new_code() -> str:
    """A fresh random code (the store retries on the rare collision)."""
    body = f"{secrets.randbelow(9_000_000) + 1_000_000}"  # never starts with 0
    return body + str(damm_digit(body))


def is_valid(code: str) -> bool:
    return len(code) == 8 and code.isdigit() and damm_digit(code) == 0


def normalize(text: str) -> str | None:
    """`1234 5678`, `1234-5678` or `12345678` → `12345678` when the check digit holds."""
    m = CODE_PATTERN.search(text)
    if not m:
        return None
    code = m.group(1) + m.group(2)
    return code if is_valid(code) else None


def looks_like_code(text: str) -> bool:
    """8 digits in code shape, valid or not (so a typo can be answered as such)."""
    return CODE_PATTERN.search(text) is not None


def display(code: str) -> str:
    return f"{code[:4]} {code[4:]}"
