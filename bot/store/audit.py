"""The audit log: every admin action, allowed or refused, with who and on what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.base import Repo
from bot.store.models import AuditLog
from bot.store.views import AuditInfo


def add_audit(
    s: AsyncSession,
    *,
    now: datetime,
    official_id: int | None,
    channel: str | None,
    channel_user_id: str | None,
    action: str,
    target: str | None,
    allowed: bool,
    detail: dict[str, Any] | None = None,
) -> AuditLog:
    """An audit row in the caller's transaction (so the action and its record commit together)."""
    row = AuditLog(official_id=official_id, channel=channel, channel_user_id=channel_user_id, action=action,
                   target=target, allowed=allowed, detail=dict(detail or {}), created_at=now)
    s.add(row)
    return row


class AuditRepo(Repo):
    async def record(
        self,
        *,
        official_id: int | None,
        channel: str | None,
        channel_user_id: str | None,
        action: str,
        target: str | None,
        allowed: bool,
        detail: dict[str, Any] | None = None,
    ) -> AuditInfo:
        async with self.session() as s:
            row = add_audit(s, now=self.clock.now(), official_id=official_id, channel=channel,
                            channel_user_id=channel_user_id, action=action, target=target, allowed=allowed,
                            detail=detail)
            await s.flush()
            return AuditInfo.of(row)

    async def for_target(self, target: str) -> list[AuditInfo]:
        """Entries about one case code, poll id…, oldest first."""
        async with self.read() as s:
            rows = await s.scalars(select(AuditLog).where(AuditLog.target == target).order_by(AuditLog.id))
            return [AuditInfo.of(r) for r in rows]

    async def recent(self, limit: int = 50) -> list[AuditInfo]:
        """The latest entries, newest first."""
        async with self.read() as s:
            rows = await s.scalars(select(AuditLog).order_by(AuditLog.id.desc()).limit(limit))
            return [AuditInfo.of(r) for r in rows]
