"""Background processing of accepted webhook events: parse → download → engine → send.

The webhook only stores the raw event (repo.py) and wakes this worker, so Zalo gets its 200 at
once. Events of one user are worked one after another, different users in parallel. A failed
step is retried with back-off; the dialog runs at most once per event (the engine dedupes on
the message id) and its replies are stored before sending, so a send that has to wait (rate
limit, network) is retried alone. Rows left unfinished by a crash come back when their lease
ends, at the latest on the next start.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from datetime import timedelta
from typing import Any

from bot.context import AppContext
from bot.engine import Engine
from bot.errors import InvalidInput, RetryLater, SendError
from bot.messages import Contact, Inbound, Outbound
from integrations.zalo.channel import CHANNEL, ZaloChannel
from integrations.zalo.events import MalformedEvent, ZaloEvent, external_id, parse_event, user_key
from integrations.zalo.media import Downloader
from integrations.zalo.metrics import ZaloMetrics
from integrations.zalo.repo import REPLIES_KEY, SENT_KEY, InboundEventRepo, IntakeRow

log = logging.getLogger(__name__)

# Zalo resends an unanswered event for up to ~12 h; finished rows are kept well past that (they
# are what makes a late retry a duplicate), failed ones stay for an operator to look at.
KEEP_DONE = timedelta(days=7)
PRUNE_EVERY_SECONDS = 3600.0


class ZaloIntake:
    def __init__(self, ctx: AppContext, engine: Engine, channel: ZaloChannel, repo: InboundEventRepo,
                 downloader: Downloader, *, lease_seconds: float = 60.0, max_attempts: int = 6,
                 batch_size: int = 100, concurrency: int = 8, poll_seconds: float = 2.0,
                 metrics: ZaloMetrics | None = None) -> None:
        self.ctx = ctx
        self.engine = engine
        self.channel = channel
        self.repo = repo
        self.downloader = downloader
        self.lease = timedelta(seconds=lease_seconds)
        self.max_attempts = max_attempts
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.metrics = metrics or ZaloMetrics()
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._busy_users: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None

    # --- intake ------------------------------------------------------------------------
    async def accept(self, body: dict[str, Any]) -> bool:
        """Store a verified event; False for one already accepted (a retry or replay)."""
        added = await self.repo.add(external_id(body), body)
        if added:
            self._wake.set()
        return added

    # --- worker lifecycle ------------------------------------------------------------------
    def start(self) -> None:
        if self._runner is None:
            self._runner = asyncio.create_task(self._run(), name="zalo-intake")

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Stop taking work; let events in progress finish for a little while."""
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
            self._runner = None
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=grace_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def drain(self) -> None:
        """Work until nothing is due and nothing is running (tests, CLI)."""
        while True:
            scheduled = await self.schedule_due()
            if self._tasks:
                await asyncio.gather(*set(self._tasks), return_exceptions=True)
            elif not scheduled:
                return

    async def _run(self) -> None:
        last_prune = -PRUNE_EVERY_SECONDS
        loop = asyncio.get_running_loop()
        while True:
            if loop.time() - last_prune >= PRUNE_EVERY_SECONDS:
                last_prune = loop.time()
                try:
                    pruned = await self.repo.prune(KEEP_DONE)
                    if pruned:
                        log.info("zalo intake: %d old events pruned", pruned)
                except Exception:
                    log.exception("zalo intake: pruning failed")
            self._wake.clear()
            try:
                scheduled = await self.schedule_due()
            except Exception:
                log.exception("zalo intake: could not read due events")
                scheduled = 0
            if scheduled:
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            except TimeoutError:
                pass

    async def schedule_due(self) -> int:
        """Start work on due events of users not already being served; returns how many."""
        rows = await self.repo.due(self.batch_size)
        by_user: dict[str, list[IntakeRow]] = defaultdict(list)
        for row in rows:
            user = user_key(row.body)
            if user not in self._busy_users:
                by_user[user].append(row)
        for user, user_rows in by_user.items():
            self._busy_users.add(user)
            task = asyncio.create_task(self._serve_user(user, user_rows))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return sum(len(r) for r in by_user.values())

    async def _serve_user(self, user: str, rows: list[IntakeRow]) -> None:
        try:
            async with self._slots:
                for row in rows:
                    if await self.repo.claim(row, self.lease):
                        await self._process(row)
        except Exception:
            log.exception("zalo intake: unexpected failure for a user's events")
        finally:
            self._busy_users.discard(user)
            self._wake.set()

    # --- one event ---------------------------------------------------------------------
    async def _process(self, row: IntakeRow) -> None:
        attempt = row.attempts + 1
        body = row.body
        if row.status == "pending":
            try:
                event = parse_event(body)
            except MalformedEvent as exc:
                await self.repo.fail(row.id, f"malformed: {exc}")
                self.metrics.intake.labels(result="malformed").inc()
                return
            if event is None:
                await self.repo.done(row.id)
                return
            try:
                replies = await self.handle(event)
            except Exception as exc:
                await self._handling_failed(row, event, attempt, exc)
                return
            if not replies:
                await self.repo.done(row.id)
                self.metrics.intake.labels(result="ok").inc()
                return
            stored = [r.to_dict() for r in replies]
            await self.repo.handled(row.id, body, stored)
            body = {**body, REPLIES_KEY: stored, SENT_KEY: 0}
            attempt = 1
        await self._deliver(row.id, body, attempt)

    async def handle(self, event: ZaloEvent) -> list[Outbound]:
        """Turn an event into an Inbound, run the engine, return the replies to send."""
        ctx = self.ctx
        citizens = ctx.store.citizens
        inbound = Inbound(channel=CHANNEL, user_id=event.user_id, message_id=event.msg_id, text=event.text,
                          payload=event.payload, location=event.location, event=event.event,
                          display_name=event.display_name, received_at=ctx.clock.now())
        if event.name == "unfollow":
            if await citizens.identity_for(CHANNEL, event.user_id) is not None:
                await self.engine.handle(inbound)  # dialogs may tidy up; nothing can be sent now
                await citizens.mark_unreachable(CHANNEL, event.user_id)
            log.info("zalo user unfollowed; sends stopped")
            return []
        await citizens.touch_identity(CHANNEL, event.user_id)
        if event.attachments:
            inbound.media = list(await asyncio.gather(*(self.downloader.fetch(a) for a in event.attachments)))
        if event.phone:
            inbound.contact = await self._verified_contact(event)
        replies = await self.engine.handle(inbound)
        if event.event == "sticker" and not replies and "sticker" not in self.engine.router.events:
            locale = await self.channel.locale_of(event.user_id)
            replies = [Outbound(ctx.i18n.t(locale, "zalo.sticker_reply"))]
        return replies

    async def _verified_contact(self, event: ZaloEvent) -> Contact | None:
        assert event.phone is not None
        citizens = self.ctx.store.citizens
        citizen = await citizens.get_or_create(CHANNEL, event.user_id, display_name=event.display_name)
        try:
            await citizens.set_verified_phone(citizen.id, event.phone)
        except InvalidInput:
            log.warning("zalo user_submit_info with an unusable phone number")
            return None
        return Contact(phone=event.phone, verified=True)

    async def _handling_failed(self, row: IntakeRow, event: ZaloEvent, attempt: int, exc: Exception) -> None:
        if attempt >= self.max_attempts:
            log.error("zalo event %s failed %d times, giving up: %r", row.id, attempt, exc)
            await self.repo.fail(row.id, repr(exc))
            self.metrics.intake.labels(result="failed").inc()
            if event.event not in ("unfollow",):
                await self._send_error_reply(event.user_id)
            return
        log.warning("zalo event %s failed (attempt %d), will retry: %r", row.id, attempt, exc)
        await self.repo.retry(row.id, repr(exc), _backoff(attempt))

    async def _send_error_reply(self, user_id: str) -> None:
        try:
            locale = await self.channel.locale_of(user_id)
            await self.channel.send(user_id, [self.engine.error_reply(locale)])
        except Exception as exc:
            log.warning("zalo error reply not delivered: %r", exc)

    async def _deliver(self, row_id: int, body: dict[str, Any], attempt: int) -> None:
        replies = [Outbound.from_dict(d) for d in body.get(REPLIES_KEY, [])]
        sent = int(body.get(SENT_KEY, 0))
        user_id = user_key(body)
        try:
            for index in range(sent, len(replies)):
                await self.channel.send_one(user_id, replies[index])
                await self.repo.progress(row_id, body, index + 1)
        except SendError as exc:
            if not isinstance(exc, RetryLater):
                log.warning("zalo replies not deliverable: %s", exc)
                await self.repo.done(row_id, error=f"send: {exc}")
                self.metrics.intake.labels(result="undelivered").inc()
                return
            delay = timedelta(seconds=exc.retry_after) if exc.retry_after else _backoff(attempt)
            await self._send_failed(row_id, attempt, f"send: {exc}", delay)
            return
        except Exception as exc:
            log.exception("zalo replies: unexpected error")
            await self._send_failed(row_id, attempt, f"send: {exc!r}", _backoff(attempt))
            return
        await self.repo.done(row_id)
        self.metrics.intake.labels(result="ok").inc()

    async def _send_failed(self, row_id: int, attempt: int, error: str, delay: timedelta) -> None:
        if attempt >= self.max_attempts:
            log.error("zalo replies of event %s undelivered after %d attempts: %s", row_id, attempt, error)
            await self.repo.fail(row_id, error)
            self.metrics.intake.labels(result="undelivered").inc()
            return
        log.info("zalo replies of event %s delayed (%s), retry in %s", row_id, error, delay)
        await self.repo.retry(row_id, error, delay)


def _backoff(attempt: int) -> timedelta:
    return timedelta(seconds=min(2 ** attempt, 300))

