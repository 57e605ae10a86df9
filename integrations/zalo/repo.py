"""Durable webhook intake (`InboundEvent`) and the rotating token pair (`ChannelCredential`).

Intake rows move `pending` → `replying` → `done` (or `failed`). While a row is not final,
`processed_at` is its *not-before* time: a worker claims a row by pushing it a lease ahead
(so several server processes never work one event at once, and a crashed worker's rows come
back when the lease ends); a failed attempt pushes it by the back-off. Once final it is the
completion time. In `replying` the body also carries the rendered replies and how many were
sent (`_replies`, `_sent`), so a send that fails is retried without running the dialog again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.store.models import ChannelCredential, InboundEvent

log = logging.getLogger(__name__)

CHANNEL = "zalo"
PREVIOUS = "zalo:prev"  # the pair before the last rotation, kept until the new one has worked
REPLIES_KEY = "_replies"
SENT_KEY = "_sent"


@dataclass(frozen=True, slots=True)
class IntakeRow:
    id: int
    external_id: str
    body: dict[str, Any]
    status: str
    attempts: int


class InboundEventRepo:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessionmaker = sessionmaker
        self._clock = clock

    async def add(self, external_id: str, body: dict[str, Any]) -> bool:
        """Keep a raw event; False when it was already accepted (a platform retry or replay)."""
        now = self._clock.now()
        try:
            async with self._sessionmaker() as s, s.begin():
                existing = await s.scalar(
                    select(InboundEvent.id).where(
                        InboundEvent.channel == CHANNEL, InboundEvent.external_id == external_id
                    )
                )
                if existing is not None:
                    return False
                s.add(
                    InboundEvent(
                        channel=CHANNEL, external_id=external_id, body=body, status="pending",
                        attempts=0, received_at=now, processed_at=None,
                    )
                )
        except IntegrityError:
            return False  # a concurrent replay won the unique (channel, external_id) race
        return True

    async def due(self, limit: int) -> list[IntakeRow]:
        """Unfinished rows whose not-before time has passed, oldest first."""
        now = self._clock.now()
        async with self._sessionmaker() as s:
            rows = await s.scalars(
                select(InboundEvent)
                .where(
                    InboundEvent.channel == CHANNEL,
                    InboundEvent.status.in_(("pending", "replying")),
                    or_(InboundEvent.processed_at.is_(None), InboundEvent.processed_at <= now),
                )
                .order_by(InboundEvent.id)
                .limit(limit)
            )
            return [_row(r) for r in rows]

    async def claim(self, row: IntakeRow, lease: timedelta) -> bool:
        """Take a row for `lease`; False when another worker has it or it is finished."""
        now = self._clock.now()
        async with self._sessionmaker() as s, s.begin():
            result = await s.execute(
                update(InboundEvent)
                .where(
                    InboundEvent.id == row.id,
                    InboundEvent.status == row.status,
                    or_(InboundEvent.processed_at.is_(None), InboundEvent.processed_at <= now),
                )
                .values(processed_at=now + lease, attempts=InboundEvent.attempts + 1)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def handled(self, row_id: int, body: dict[str, Any], replies: list[dict[str, Any]]) -> None:
        """The dialog ran; remember its replies so sending can be retried on its own."""
        new_body = {**body, REPLIES_KEY: replies, SENT_KEY: 0}
        await self._set(row_id, status="replying", body=new_body, attempts=0, last_error=None)

    async def progress(self, row_id: int, body: dict[str, Any], sent: int) -> None:
        await self._set(row_id, body={**body, SENT_KEY: sent})

    async def done(self, row_id: int, error: str | None = None) -> None:
        await self._set(row_id, status="done", processed_at=self._clock.now(), last_error=error)

    async def retry(self, row_id: int, error: str, delay: timedelta) -> None:
        await self._set(row_id, processed_at=self._clock.now() + delay, last_error=error[:2000])

    async def fail(self, row_id: int, error: str) -> None:
        await self._set(row_id, status="failed", processed_at=self._clock.now(), last_error=error[:2000])

    async def prune(self, older_than: timedelta) -> int:
        """Forget finished events past the platform's retry horizon; returns how many."""
        cutoff = self._clock.now() - older_than
        async with self._sessionmaker() as s, s.begin():
            result = await s.execute(
                delete(InboundEvent).where(
                    InboundEvent.channel == CHANNEL,
                    InboundEvent.status == "done",
                    InboundEvent.processed_at < cutoff,
                )
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def get(self, row_id: int) -> IntakeRow | None:
        async with self._sessionmaker() as s:
            row = await s.get(InboundEvent, row_id)
            return None if row is None else _row(row)

    async def _set(self, row_id: int, **values: Any) -> None:
        async with self._sessionmaker() as s, s.begin():
            await s.execute(update(InboundEvent).where(InboundEvent.id == row_id).values(**values))


def _row(r: InboundEvent) -> IntakeRow:
    return IntakeRow(r.id, r.external_id, dict(r.body), r.status, r.attempts)


@dataclass(frozen=True, slots=True)
class Credential:
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None
    version: int


class CredentialRepo:
    """The Zalo token pair. Every replacement is a compare-and-swap on `version`."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessionmaker = sessionmaker
        self._clock = clock

    async def load(self, channel: str = CHANNEL) -> Credential | None:
        async with self._sessionmaker() as s:
            row = await s.get(ChannelCredential, channel)
            return None if row is None else _cred(row)

    async def seed(self, access_token: str, refresh_token: str | None) -> Credential:
        """Store the configured pair unless one is already stored (the stored one is newer)."""
        current = await self.load()
        if current is not None:
            return current
        try:
            async with self._sessionmaker() as s, s.begin():
                s.add(
                    ChannelCredential(
                        channel=CHANNEL, access_token=access_token, refresh_token=refresh_token,
                        expires_at=None, version=1, updated_at=self._clock.now(),
                    )
                )
        except IntegrityError:
            log.debug("credential seeded concurrently")
        seeded = await self.load()
        assert seeded is not None
        return seeded

    async def rotate(
        self, expected_version: int | None, access_token: str, refresh_token: str | None,
        expires_at: datetime | None,
    ) -> Credential | None:
        """Replace the pair if it is still at `expected_version` (None: unconditionally).

        In the same transaction the pair being replaced is kept as `zalo:prev` until the new
        one has worked once (`confirm`). Returns the stored credential, or None when the CAS
        lost (someone else rotated first).
        """
        now = self._clock.now()
        async with self._sessionmaker() as s, s.begin():
            row = await s.get(ChannelCredential, CHANNEL)
            if row is None:
                s.add(
                    ChannelCredential(
                        channel=CHANNEL, access_token=access_token, refresh_token=refresh_token,
                        expires_at=expires_at, version=1, updated_at=now,
                    )
                )
                await s.flush()
                return Credential(access_token, refresh_token, expires_at, 1)
            if expected_version is not None and row.version != expected_version:
                return None
            previous = _cred(row)
            result = await s.execute(
                update(ChannelCredential)
                .where(ChannelCredential.channel == CHANNEL, ChannelCredential.version == previous.version)
                .values(
                    access_token=access_token, refresh_token=refresh_token, expires_at=expires_at,
                    version=previous.version + 1, updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                return None
            await _upsert_previous(s, previous, now)
            return Credential(access_token, refresh_token, expires_at, previous.version + 1)

    async def confirm(self) -> None:
        """The current pair works: the previous one is no longer needed."""
        async with self._sessionmaker() as s, s.begin():
            await s.execute(delete(ChannelCredential).where(ChannelCredential.channel == PREVIOUS))


async def _upsert_previous(s: AsyncSession, previous: Credential, now: datetime) -> None:
    row = await s.get(ChannelCredential, PREVIOUS)
    if row is None:
        s.add(
            ChannelCredential(
                channel=PREVIOUS, access_token=previous.access_token, refresh_token=previous.refresh_token,
                expires_at=previous.expires_at, version=previous.version, updated_at=now,
            )
        )
    else:
        row.access_token = previous.access_token
        row.refresh_token = previous.refresh_token
        row.expires_at = previous.expires_at
        row.version = previous.version
        row.updated_at = now


def _cred(row: ChannelCredential) -> Credential:
    return Credential(row.access_token, row.refresh_token, row.expires_at, row.version)
