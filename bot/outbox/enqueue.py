"""Writing outbox rows inside the caller's transaction (the change and its notice commit together).

`add_delivery` is a plain function (no await), like `session.add`: it queues an
`INSERT … ON CONFLICT DO NOTHING` on the session, which runs before the session's next query
and at the latest just before commit (session events below). A rollback discards it with the
rest of the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

from bot.messages import Outbound
from bot.store.models import Delivery

_PENDING = "tiengdan.outbox.pending"


def add_delivery(
    s: AsyncSession,
    *,
    kind: str,
    now: datetime,
    citizen_id: int | None = None,
    official_id: int | None = None,
    messages: Sequence[Outbound] | None = None,
    dedupe_key: str | None = None,
    broadcast_id: int | None = None,
    channel: str | None = None,
    channel_user_id: str | None = None,
) -> None:
    """Queue one proactive delivery in `s`'s transaction, due at `now`.

    Idempotent: when a row with the same `dedupe_key` (or the same broadcast + citizen)
    exists, nothing is added — replays and concurrent planners never queue a message twice.
    `messages=None` leaves the payload empty: the worker renders the row with the renderer
    registered for `kind`. Without `channel`/`channel_user_id` the worker picks the
    recipient's most recently active reachable identity at send time.
    """
    if citizen_id is None and official_id is None and not (channel and channel_user_id):
        raise ValueError("a delivery needs a citizen, an official or an explicit channel target")
    if dedupe_key is not None and len(dedupe_key) > 96:
        raise ValueError("dedupe_key longer than 96 characters")
    values: dict[str, Any] = {
        "kind": kind,
        "dedupe_key": dedupe_key,
        "broadcast_id": broadcast_id,
        "citizen_id": citizen_id,
        "official_id": official_id,
        "channel": channel,
        "channel_user_id": channel_user_id,
        "payload": None if messages is None else [m.to_dict() for m in messages],
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    s.sync_session.info.setdefault(_PENDING, []).append(values)


def _drain(session: Session) -> None:
    pending: list[dict[str, Any]] | None = session.info.pop(_PENDING, None)
    if not pending:
        return
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for values in pending:
        session.execute(insert(Delivery).values(**values).on_conflict_do_nothing())


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.info.get(_PENDING):
        session.flush()  # rows the deliveries refer to (a new broadcast, citizen) go first
        _drain(session)


@event.listens_for(Session, "do_orm_execute")
def _before_query(state: ORMExecuteState) -> None:
    # Runs after autoflush: a query in the same transaction sees the queued deliveries.
    if state.session.info.get(_PENDING):
        _drain(state.session)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: Any) -> None:
    session.info.pop(_PENDING, None)
