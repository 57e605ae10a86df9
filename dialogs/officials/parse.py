"""Reading command arguments from the raw text, so codes may be typed `1234 5678` and reply
texts keep their line breaks (the engine's `turn.args` splits on whitespace)."""

from __future__ import annotations

import re

from bot import casecode

_CODE_AT_START = re.compile(r"^\s*(\d{4})[ .\-]?(\d{4})(?!\d)(.*)$", re.S)


def rest_of_command(text: str) -> str:
    """Everything after `/command` (and a `@botname` suffix)."""
    if not text.startswith("/"):
        return text
    parts = text.split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


class BadCode(ValueError):
    """Eight digits whose check digit is wrong (a typo), or no code at all."""


def take_code(text: str) -> tuple[str, str]:
    """(normalised code, the rest of the text). Raises BadCode."""
    m = _CODE_AT_START.match(text)
    if m is None:
        raise BadCode(text.strip()[:16])
    code = m.group(1) + m.group(2)
    if not casecode.is_valid(code):
        raise BadCode(casecode.display(code))
    return code, m.group(3).strip()
