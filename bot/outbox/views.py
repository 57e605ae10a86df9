"""The read-only view of an outbox row that renderers receive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.messages import Outbound
from bot.store.models import Delivery


@dataclass(frozen=True, slots=True)
class DeliveryView:
    id: int
    kind: str
    dedupe_key: str | None
    broadcast_id: int | None
    citizen_id: int | None
    official_id: int | None
    channel: str | None
    channel_user_id: str | None
    payload: tuple[dict[str, Any], ...] | None
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None

    def messages(self) -> list[Outbound]:
        """The stored messages (empty for rows a renderer fills in)."""
        return [Outbound.from_dict(m) for m in self.payload or ()]

    @classmethod
    def of(cls, row: Delivery) -> DeliveryView:
        return cls(
            id=row.id,
            kind=row.kind,
            dedupe_key=row.dedupe_key,
            broadcast_id=row.broadcast_id,
            citizen_id=row.citizen_id,
            official_id=row.official_id,
            channel=row.channel,
            channel_user_id=row.channel_user_id,
            payload=None if row.payload is None else tuple(row.payload),
            status=row.status,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at,
            last_error=row.last_error,
            created_at=row.created_at,
            sent_at=row.sent_at,
        )
