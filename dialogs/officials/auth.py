"""Who may do what: the official behind a message, their role's commands, their jurisdiction.

Every refusal is answered politely and written to the audit log, as is every action.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.store.officials import Jurisdiction, OfficialInfo, jurisdiction_of
from bot.store.views import CaseInfo
from bot.turn import Turn

log = logging.getLogger(__name__)

EVERYONE = frozenset({"admin", "official", "front", "moderator"})
CASE_WORKERS = frozenset({"admin", "official"})
# command → roles allowed to use it
PERMISSIONS: dict[str, frozenset[str]] = {
    "inbox": EVERYONE,
    "case": EVERYONE,
    "overdue": EVERYONE,
    "stats": EVERYONE,
    "note": EVERYONE,
    "ack": CASE_WORKERS | {"moderator"},
    "assign": CASE_WORKERS,
    "reply": CASE_WORKERS,
    "status": CASE_WORKERS,
    "priority": CASE_WORKERS | {"moderator"},
    "merge": CASE_WORKERS | {"moderator"},
    "audit": frozenset({"admin", "front"}),
    "invite": frozenset({"admin"}),
}
COMMANDS = tuple(PERMISSIONS)


@dataclass(frozen=True, slots=True)
class Actor:
    official: OfficialInfo
    where: Jurisdiction

    def may(self, command: str) -> bool:
        return self.official.role in PERMISSIONS.get(command, frozenset())


async def audit(turn: Turn, action: str, *, allowed: bool, official: OfficialInfo | None = None,
                target: str | None = None, **detail: Any) -> None:
    """One audit row for something an official did or was refused (never raises)."""
    try:
        await turn.store.audit.record(
            official_id=official.id if official else None, channel=turn.inbound.channel,
            channel_user_id=turn.inbound.user_id, action=action, target=target, allowed=allowed,
            detail={k: v for k, v in detail.items() if v is not None},
        )
    except Exception:  # the answer to the official must not depend on the audit write
        log.exception("audit write failed action=%s", action)


async def actor(turn: Turn, command: str, *, target: str | None = None) -> Actor | None:
    """The acting official if they may use `command`; otherwise refuse (audited) and None."""
    cached = turn.extra.get("off_actor")
    official = cached.official if isinstance(cached, Actor) else await turn.store.officials.by_identity(
        turn.inbound.channel, turn.inbound.user_id)
    if official is None:
        await audit(turn, command, allowed=False, target=target, reason="not_official")
        turn.say("off.not_official")
        return None
    if official.role not in PERMISSIONS.get(command, frozenset()):
        await audit(turn, command, allowed=False, official=official, target=target, reason="role")
        turn.say("off.role_refused", command=command)
        return None
    if isinstance(cached, Actor):
        return cached
    result = Actor(official, await jurisdiction_of(turn.store.areas, official))
    turn.extra["off_actor"] = result
    return result


async def in_reach(turn: Turn, who: Actor, command: str, case: CaseInfo) -> bool:
    """True when the case lies in the official's jurisdiction; otherwise refuse (audited)."""
    if who.where.covers(case):
        return True
    await audit(turn, command, allowed=False, official=who.official, target=case.code, reason="jurisdiction")
    turn.say("off.out_of_reach", code=case.display_code)
    return False


async def officials_for_case(turn: Turn, case: CaseInfo) -> list[OfficialInfo]:
    """Who handles the case now: the assignee unit's officials in reach, else every case worker
    whose jurisdiction names areas that include it."""
    covering = []
    for official in await turn.store.officials.list():
        if official.role not in CASE_WORKERS:
            continue
        where = await jurisdiction_of(turn.store.areas, official)
        if where.covers(case):
            covering.append(official)
    by_unit = [o for o in covering if case.assignee_unit and o.unit == case.assignee_unit]
    return by_unit or [o for o in covering if o.area_codes]
