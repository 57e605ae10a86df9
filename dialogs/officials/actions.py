"""Running one change on a case for an official: hooks (audit + citizen notice) in the change's
transaction, and a clear answer for every way it can fail."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from bot import casecode
from bot.errors import Conflict, InvalidInput, NotFound
from bot.outbox.notices import citizen_hook
from bot.store.caseflow import BadTransition, CaseChange, ChangeHook, StaleVersion
from bot.store.officials import audit_hook
from bot.store.views import CaseInfo
from bot.turn import Turn
from dialogs.citizen.common import status_label
from dialogs.officials.auth import Actor, actor, audit, in_reach
from dialogs.officials.parse import BadCode, take_code

Run = Callable[[Sequence[ChangeHook]], Awaitable[CaseChange]]


async def case_for(turn: Turn, who: Actor, command: str, code: str) -> CaseInfo | None:
    """The case by code if it exists and lies in reach; otherwise answered (and audited)."""
    case = await turn.store.cases.get_by_code(code)
    if case is None:
        await audit(turn, command, allowed=False, official=who.official, target=code, reason="not_found")
        turn.say("off.case_not_found", code=casecode.display(code) if casecode.is_valid(code) else code[:16])
        return None
    return case if await in_reach(turn, who, command, case) else None


async def command_case(turn: Turn, command: str) -> tuple[Actor, CaseInfo, str] | None:
    """For `/command CODE rest…`: the actor, the case in reach and the rest of the text."""
    from dialogs.officials.parse import rest_of_command

    who = await actor(turn, command)
    if who is None:
        return None
    try:
        code, rest = take_code(rest_of_command(turn.text))
    except BadCode as exc:
        await audit(turn, command, allowed=False, official=who.official, reason="bad_args", arg=str(exc) or None)
        typo = casecode.looks_like_code(str(exc))
        turn.say("off.code_typo" if typo else f"off.usage_{command}", code=str(exc))
        return None
    case = await case_for(turn, who, command, code)
    return None if case is None else (who, case, rest)


async def perform(turn: Turn, who: Actor, command: str, case: CaseInfo, run: Run, *,
                  extra_hooks: Sequence[ChangeHook] = (), **detail: Any) -> CaseChange | None:
    """Run the change with audit + citizen-notice hooks; answer failures. None when it failed."""
    hooks = [audit_hook(who.official, command, {k: v for k, v in detail.items() if v is not None}),
             citizen_hook(turn.ctx.i18n, unit=who.official.unit), *extra_hooks]
    reason: str
    try:
        return await run(hooks)
    except StaleVersion:
        reason = "stale"
        fresh = await turn.store.cases.get(case.id)
        turn.say("off.stale", code=case.display_code,
                 status=status_label(turn, fresh.status if fresh else case.status))
    except BadTransition as exc:
        reason = "transition"
        turn.say("off.bad_transition", code=case.display_code, current=status_label(turn, exc.current),
                 wanted=status_label(turn, exc.wanted))
    except Conflict:
        reason = "conflict"
        turn.say("off.conflict", code=case.display_code)
    except NotFound:
        reason = "not_found"
        turn.say("off.case_not_found", code=case.display_code)
    except InvalidInput as exc:
        reason = f"invalid:{exc}"
        key = f"off.invalid_{exc}"
        turn.say(key if turn.ctx.i18n.has(key, "vi") else "off.invalid", code=case.display_code)
    await audit(turn, command, allowed=False, official=who.official, target=case.code, reason=reason)
    return None
