"""What the participation dialogs share: repositories, who may act, areas and deadlines."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.store.broadcasts import BroadcastRepo, broadcast_repo
from bot.store.participation import OfficialRef, ParticipationRepo, participation_repo
from bot.turn import Turn

ORGANISER_ROLES = ("front", "official", "admin")  # may run polls, consultations and broadcasts


def part(turn: Turn) -> ParticipationRepo:
    return participation_repo(turn.store)


def bcasts(turn: Turn) -> BroadcastRepo:
    return broadcast_repo(turn.store)


async def organiser(turn: Turn, action: str, target: str | None = None) -> OfficialRef | None:
    """The acting official when they may organise; otherwise say no. Both outcomes are audited."""
    inbound = turn.inbound
    official = await part(turn).official_for(inbound.channel, inbound.user_id)
    allowed = official is not None and official.role in ORGANISER_ROLES
    await turn.store.audit.record(official_id=official.id if official else None, channel=inbound.channel,
                                  channel_user_id=inbound.user_id, action=action, target=target,
                                  allowed=allowed)
    if not allowed:
        turn.say("part.not_allowed")
        return None
    return official


async def audit(turn: Turn, official: OfficialRef, action: str, target: str, **detail: object) -> None:
    await turn.store.audit.record(official_id=official.id, channel=turn.inbound.channel,
                                  channel_user_id=turn.inbound.user_id, action=action, target=target,
                                  allowed=True, detail=dict(detail))


async def within_jurisdiction(turn: Turn, official: OfficialRef, codes: Sequence[str]) -> bool:
    """Target codes must each lie in the official's areas (no areas = everywhere)."""
    if not official.area_codes:
        return True
    if not codes:
        return False
    for code in codes:
        area = await turn.store.areas.by_code(code)
        if area is None:
            return False
        scope = await part(turn).area_scope(area.id)
        if not any(c in official.area_codes for c in scope):
            return False
    return True


async def area_names(turn: Turn, codes: Sequence[str]) -> str:
    if not codes:
        return turn.t("part.areas.everywhere")
    names = []
    for code in codes:
        area = await turn.store.areas.by_code(code)
        names.append(area.full_name if area else code)
    return "; ".join(names)


def parse_id(turn: Turn, index: int = 0) -> int | None:
    if len(turn.args) > index and turn.args[index].isdigit() and len(turn.args[index]) < 12:
        return int(turn.args[index])
    return None


_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?(?:\s+(\d{1,2})[:hg](\d{2})?)?$")
_DAYS = re.compile(r"^(\d{1,3})\s*(ngay|ngày|d|day|days)?$")


def parse_deadline(text: str, now: datetime, timezone: str) -> datetime | None:
    """`3` or `3 ngày` (days from now), `25/12`, `25/12/2026`, `25/12/2026 17:00` (local time)."""
    text = text.strip().lower()
    if m := _DAYS.match(text):
        days = int(m.group(1))
        return now + timedelta(days=days) if 0 < days <= 365 else None
    m = _DATE.match(text)
    if m is None:
        return None
    tz = ZoneInfo(timezone)
    local_now = now.astimezone(tz)
    day, month = int(m.group(1)), int(m.group(2))
    year = int(m.group(3)) if m.group(3) else local_now.year
    if year < 100:
        year += 2000
    hour, minute = (int(m.group(4)), int(m.group(5) or 0)) if m.group(4) else (23, 59)
    try:
        when = datetime(year, month, day, hour, minute, tzinfo=tz)
    except ValueError:
        return None
    if not m.group(3) and when <= local_now:
        when = when.replace(year=year + 1)
    return when if now < when <= now + timedelta(days=366) else None
