"""Participation needs a consenting citizen with a home commune (polls and news are local).

`ready(turn, then, arg)` returns True when both are there; otherwise it starts onboarding or
the commune picker and, once a commune is chosen, continues with the step registered under
`then` by `@on_ready(name)`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.router import Router
from bot.store.views import AreaInfo
from bot.turn import Turn
from dialogs.citizen import areapicker, onboarding
from dialogs.citizen.common import show_menu

router = Router("part-home")
Then = Callable[[Turn, int | None], Awaitable[None]]
_THEN: dict[str, Then] = {}  # filled at import time by the citizen-side modules


def on_ready(name: str) -> Callable[[Then], Then]:
    def register(handler: Then) -> Then:
        _THEN[name] = handler
        return handler

    return register


async def ready(turn: Turn, then: str, arg: int | None = None) -> bool:
    if not turn.citizen.has_consent:
        await onboarding.start(turn)
        return False
    if turn.citizen.home_area_id is None:
        turn.session.reset()
        turn.session.data["part_then"] = [then, arg]
        turn.say("part.need_home")
        await areapicker.start(turn, "part_home")
        return False
    return True


@areapicker.on_picked("part_home")
async def home_picked(turn: Turn, area: AreaInfo | None) -> None:
    then, arg = turn.session.data.pop("part_then", None) or ["", None]
    if area is None:
        show_menu(turn)
        return
    turn.citizen = await turn.store.citizens.update(turn.citizen.id, home_area_id=area.id)
    turn.say("onb.home_saved", name=area.full_name)
    handler = _THEN.get(str(then))
    if handler is None:
        show_menu(turn)
        return
    await handler(turn, arg if isinstance(arg, int) else None)
