"""The outbox sender: claims due deliveries, sends them through their channel, records the outcome.

Claiming is one UPDATE statement that moves up to `outbox_batch_size` due rows to
`sending` under a fresh claim token with a lease (`claimed_until`):

    UPDATE deliveries SET status='sending', claimed_by=:token, claimed_until=:lease
     WHERE id IN (SELECT id FROM deliveries WHERE <due> ORDER BY next_attempt_at, id LIMIT :n
                  [FOR UPDATE SKIP LOCKED on PostgreSQL])
       AND <due>

where <due> is "pending/deferred and next_attempt_at ≤ now, or sending with an expired lease".
On PostgreSQL, SKIP LOCKED lets concurrent workers take disjoint batches, and the repeated
<due> condition is re-checked on the locked row; on SQLite every transaction starts with
BEGIN IMMEDIATE, so claims are serialized. Each row's outcome is committed on its own, right
after its send, and only while the row still carries this worker's token.

A worker killed (kill -9) after claiming leaves its rows `sending`; when the lease expires any
worker reclaims them — nothing is lost. The one unavoidable window is a kill after the
platform accepted a message but before its row was committed: that single message is sent
again after the lease (at-least-once; at most one per worker per crash, since outcomes are
committed per message). `attempts` counts claims, so a row that keeps crashing its worker
ends `failed` after `outbox_max_attempts`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels import AdmissionPolicy, Channel, SendKind
from bot.context import AppContext
from bot.errors import PermanentSendError, RetryLater, WindowClosed
from bot.messages import Outbound
from bot.outbox.views import DeliveryView
from bot.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from bot.store.models import ChannelIdentity, Delivery, Official

log = logging.getLogger(__name__)

Renderer = Callable[[AppContext, DeliveryView], Awaitable[list[Outbound]]]

BACKOFF_BASE_SECONDS = 5.0
BACKOFF_MAX_SECONDS = 3600.0
DEFAULT_LEASE_SECONDS = 600.0
GROUP_CONCURRENCY = 8


def default_renderers(extra: Mapping[str, Renderer] | None = None) -> dict[str, Renderer]:
    """Renderers for rows without a payload, by `Delivery.kind`.

    Notifications carry their rendered text, so the core needs none; features add theirs:
    `default_renderers({"broadcast": render_broadcast})`, passed to `OutboxWorker`.
    """
    renderers: dict[str, Renderer] = {}
    renderers.update(extra or {})
    return renderers


def _due(now: datetime) -> Any:
    return or_(
        and_(Delivery.status.in_(("pending", "deferred")), Delivery.next_attempt_at <= now),
        and_(Delivery.status == "sending", Delivery.claimed_until < now),
    )


class OutboxWorker:
    """One sender. Run several (threads of one process, or processes) against one database."""

    def __init__(
        self,
        ctx: AppContext,
        *,
        worker_id: str,
        renderers: Mapping[str, Renderer] | None = None,
        limiter: RateLimiter | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        rng: random.Random | None = None,
    ) -> None:
        self.ctx = ctx
        self.worker_id = worker_id[:40]
        self.renderers = dict(renderers or {})
        if limiter is None:
            limiter = RedisRateLimiter(ctx.redis) if ctx.redis is not None else MemoryRateLimiter()
        self.limiter = limiter
        self.lease = timedelta(seconds=lease_seconds)
        self.rng = rng or random.Random()

    @property
    def _sessionmaker(self) -> Any:
        return self.ctx.store.sessionmaker

    # --- the loop ------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop` is set; sleeps `outbox_poll_seconds` when nothing is due."""
        log.info("outbox worker %s started", self.worker_id)
        while not stop.is_set():
            try:
                handled = await self.run_once()
            except Exception:  # the database may be briefly away: never let the sender die
                log.exception("outbox worker %s: batch failed", self.worker_id)
                handled = 0
            if handled == 0:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=self.ctx.settings.outbox_poll_seconds)
                except TimeoutError:
                    pass
        log.info("outbox worker %s stopped", self.worker_id)

    async def run_once(self) -> int:
        """Claim up to `outbox_batch_size` due rows, send them, record each. Returns how many."""
        await self.release_reopened_windows()
        token, rows = await self.claim()
        if not rows:
            return 0
        groups: dict[tuple[str, str], list[DeliveryView]] = {}
        for row in rows:  # one recipient's messages stay in order; recipients go in parallel
            key = (("c", str(row.citizen_id)) if row.channel is None and row.citizen_id is not None
                   else ("o", str(row.official_id)) if row.channel is None
                   else (row.channel, row.channel_user_id or ""))
            groups.setdefault(key, []).append(row)
        gate = asyncio.Semaphore(GROUP_CONCURRENCY)

        async def run_group(items: list[DeliveryView]) -> None:
            async with gate:
                for item in items:
                    await self._deliver(token, item)

        await asyncio.gather(*(run_group(g) for g in groups.values()))
        return len(rows)

    # --- claiming ------------------------------------------------------------------------------

    async def claim(self) -> tuple[str, list[DeliveryView]]:
        """Take due rows for this worker (see the module docstring). Returns (token, rows)."""
        now = self.ctx.clock.now()
        token = f"{self.worker_id}:{uuid.uuid4().hex[:16]}"
        async with self._sessionmaker() as s, s.begin():
            candidates = (
                select(Delivery.id).where(_due(now))
                .order_by(Delivery.next_attempt_at, Delivery.id)
                .limit(self.ctx.settings.outbox_batch_size)
            )
            if s.get_bind().dialect.name == "postgresql":
                candidates = candidates.with_for_update(skip_locked=True)
            await s.execute(
                update(Delivery)
                .where(Delivery.id.in_(candidates.scalar_subquery()), _due(now))
                .values(status="sending", claimed_by=token, claimed_until=now + self.lease,
                        attempts=Delivery.attempts + 1)
                .execution_options(synchronize_session=False)
            )
            rows = await s.scalars(
                select(Delivery).where(Delivery.claimed_by == token)
                .order_by(Delivery.next_attempt_at, Delivery.id)
            )
            return token, [DeliveryView.of(r) for r in rows]

    async def release_reopened_windows(self) -> int:
        """Rows held back by a closed window (Zalo) become due once the person wrote again."""
        now = self.ctx.clock.now()
        ident = ChannelIdentity
        wrote_since = exists().where(
            ident.channel == Delivery.channel,
            ident.channel_user_id == Delivery.channel_user_id,
            ident.last_interaction_at > Delivery.next_attempt_at,
        )
        async with self._sessionmaker() as s, s.begin():
            result = await s.execute(
                update(Delivery).where(Delivery.status == "window_closed", wrote_since)
                .values(status="pending", next_attempt_at=now)
                .execution_options(synchronize_session=False)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    # --- one delivery --------------------------------------------------------------------------

    async def _deliver(self, token: str, row: DeliveryView) -> None:
        try:
            await self._attempt(token, row)
        except Exception as exc:  # a renderer or a channel bug: retry later, never crash the batch
            log.exception("outbox delivery %s failed unexpectedly", row.id)
            await self._retry(token, row, f"error: {exc!r}"[:500], None)

    async def _attempt(self, token: str, row: DeliveryView) -> None:
        target = await self._target(row)
        if target is None:
            await self._finish(token, row, status="skipped", error="no reachable identity on a registered channel")
            return
        channel, user_id = target
        if row.payload is not None:
            messages = row.messages()
        else:
            renderer = self.renderers.get(row.kind)
            if renderer is None:
                await self._finish(token, row, status="failed", error=f"no renderer for kind {row.kind!r}")
                return
            messages = await renderer(self.ctx, row)
        if not messages:
            await self._finish(token, row, status="skipped", error="nothing to send")
            return
        now = self.ctx.clock.now()
        if isinstance(channel, AdmissionPolicy):
            admission = await channel.admit(user_id, self._send_kind(row), now)
            if not admission.allowed:
                if admission.status == "window_closed":
                    await self._finish(token, row, status="window_closed", error=admission.reason,
                                       target=(channel.name, user_id), next_attempt_at=now, refund=True)
                else:
                    when = admission.retry_at or now + self._backoff(row.attempts)
                    await self._finish(token, row, status="deferred", error=admission.reason or admission.status,
                                       target=(channel.name, user_id), next_attempt_at=when, refund=True)
                return
        await self._throttle(channel.name)
        try:
            await channel.send(user_id, messages)
        except RetryLater as exc:
            await self._retry(token, row, str(exc)[:500], exc.retry_after, target=(channel.name, user_id))
            return
        except WindowClosed as exc:
            await self._finish(token, row, status="window_closed", error=str(exc)[:500],
                               target=(channel.name, user_id), next_attempt_at=self.ctx.clock.now(), refund=True)
            return
        except PermanentSendError as exc:
            await self._finish(token, row, status="failed", error=str(exc)[:500], target=(channel.name, user_id))
            if row.citizen_id is not None:
                await self.ctx.store.citizens.mark_unreachable(channel.name, user_id)
            return
        await self._finish(token, row, status="sent", target=(channel.name, user_id))
        log.info("outbox sent id=%s kind=%s channel=%s", row.id, row.kind, channel.name)

    @staticmethod
    def _send_kind(row: DeliveryView) -> SendKind:
        return "broadcast" if row.kind == "broadcast" else "notification"

    async def _target(self, row: DeliveryView) -> tuple[Channel, str] | None:
        channels = self.ctx.channels
        if row.channel and row.channel_user_id:
            channel = channels.get(row.channel)
            if channel is not None:
                return channel, row.channel_user_id
            if row.citizen_id is None:
                return None
        async with self._sessionmaker() as s:
            if row.citizen_id is not None:
                return await self._citizen_target(s, row.citizen_id)
            if row.official_id is not None:
                official = await s.get(Official, row.official_id)
                if official is not None and official.active and (channel := channels.get(official.channel)):
                    return channel, official.channel_user_id
        return None

    async def _citizen_target(self, s: AsyncSession, citizen_id: int) -> tuple[Channel, str] | None:
        idents = await s.scalars(
            select(ChannelIdentity)
            .where(ChannelIdentity.citizen_id == citizen_id, ChannelIdentity.unreachable_at.is_(None))
            .order_by(ChannelIdentity.last_interaction_at.desc().nulls_last(), ChannelIdentity.id.desc())
        )
        for ident in idents:
            channel = self.ctx.channels.get(ident.channel)
            if channel is not None:
                return channel, ident.channel_user_id
        return None

    async def _throttle(self, channel: str) -> None:
        settings = self.ctx.settings
        rate = {"telegram": settings.telegram_rate_per_second, "zalo": settings.zalo_rate_per_second}.get(channel)
        if rate:
            # burst 1: the bucket is shared by every worker and must never exceed the platform rate
            await self.limiter.acquire(f"outbox:{channel}", rate, 1)

    def _backoff(self, attempts: int) -> timedelta:
        base = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
        return timedelta(seconds=base * self.rng.uniform(0.8, 1.2))

    async def _retry(self, token: str, row: DeliveryView, error: str, retry_after: float | None,
                     target: tuple[str, str] | None = None) -> None:
        if row.attempts >= self.ctx.settings.outbox_max_attempts:
            await self._finish(token, row, status="failed", error=error, target=target)
            return
        now = self.ctx.clock.now()
        wait = timedelta(seconds=retry_after) if retry_after is not None else self._backoff(row.attempts)
        await self._finish(token, row, status="pending", error=error, target=target, next_attempt_at=now + wait)

    async def _finish(self, token: str, row: DeliveryView, *, status: str, error: str | None = None,
                      target: tuple[str, str] | None = None, next_attempt_at: datetime | None = None,
                      refund: bool = False) -> None:
        """Record the outcome, only if this worker still holds the row."""
        values: dict[str, Any] = {"status": status, "claimed_by": None, "claimed_until": None,
                                  "last_error": error}
        if status == "sent":
            values["sent_at"] = self.ctx.clock.now()
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        if refund:  # not a real attempt: the platform was never asked
            values["attempts"] = max(0, row.attempts - 1)
        if target is not None and row.channel is None and status in ("sent", "failed", "window_closed"):
            values["channel"], values["channel_user_id"] = target
        async with self._sessionmaker() as s, s.begin():
            result = await s.execute(
                update(Delivery).where(Delivery.id == row.id, Delivery.claimed_by == token).values(**values)
                .execution_options(synchronize_session=False)
            )
        if not getattr(result, "rowcount", 0):
            log.warning("outbox row %s: lease lost before recording %s", row.id, status)
