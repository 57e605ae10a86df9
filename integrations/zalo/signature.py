"""Webhook authenticity: Zalo's `X-ZEvent-Signature` and a freshness check against replays.

The header is `mac=` + SHA-256 hex of `app_id + raw_body + timestamp + secret` (a plain hash,
not an HMAC), where `timestamp` is the event's own millisecond epoch from the JSON body and
the body is hashed exactly as received.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

PREFIX = "mac="


def compute_signature(app_id: str, raw_body: bytes, timestamp: str, secret: str) -> str:
    """The header value Zalo sends for this event (`mac=<hex>`)."""
    digest = hashlib.sha256(app_id.encode() + raw_body + timestamp.encode() + secret.encode())
    return PREFIX + digest.hexdigest()


def signature_matches(header: str, app_id: str, raw_body: bytes, timestamp: str, secret: str) -> bool:
    """Constant-time comparison of a received header with the expected one."""
    expected = compute_signature(app_id, raw_body, timestamp, secret)
    return hmac.compare_digest(header.strip().lower().encode(), expected.encode())


def parse_timestamp_ms(value: object) -> int | None:
    """Zalo sends the timestamp as a string of digits (sometimes a number); None when unusable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 16:
        return int(value)
    return None


def is_fresh(timestamp_ms: int, now: datetime, max_age_seconds: int) -> bool:
    """Not older than `max_age_seconds`, nor further in the future (clock skew) than that."""
    age = now.timestamp() - timestamp_ms / 1000
    return -max_age_seconds <= age <= max_age_seconds
