"""The "which areas?" step shared by the poll, consultation and broadcast wizards.

An organiser taps "my areas" (their jurisdiction) or "everywhere" (only without a jurisdiction),
or types commune/province names or codes separated by commas. The wizard named in the session
(`wiz.kind`) continues through the handler it registered with `@on_targets(kind)`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from bot.messages import Outbound
from bot.router import Router
from bot.turn import Turn
from dialogs.participation.common import area_names, part, within_jurisdiction

router = Router("part-targets")
TargetsHandler = Callable[[Turn, list[str]], Awaitable[None]]
_DONE: dict[str, TargetsHandler] = {}  # filled at import time by the wizards
SURE = 0.85


def on_targets(kind: str) -> Callable[[TargetsHandler], TargetsHandler]:
    def register(handler: TargetsHandler) -> TargetsHandler:
        _DONE[kind] = handler
        return handler

    return register


def wizard(turn: Turn) -> dict[str, Any]:
    return turn.session.data.setdefault("wiz", {})  # type: ignore[no-any-return]


async def ask(turn: Turn) -> None:
    official = await part(turn).official_for(turn.inbound.channel, turn.inbound.user_id)
    mine = bool(official and official.area_codes)
    button = turn.btn("part.areas.mine", "part:ar:mine") if mine else turn.btn("part.areas.all", "part:ar:all")
    turn.ask("part.areas.ask", [[button], [turn.btn("common.cancel", "g:cancel")]], state="part:wiz:areas")


async def _done(turn: Turn, codes: list[str]) -> None:
    official = await part(turn).official_for(turn.inbound.channel, turn.inbound.user_id)
    if official is None or not await within_jurisdiction(turn, official, codes):
        turn.say("part.areas.outside")
        await ask(turn)
        return
    wizard(turn)["areas"] = codes
    turn.say("part.areas.chosen", names=await area_names(turn, codes))
    handler = _DONE.get(str(wizard(turn).get("kind")))
    if handler is None:
        turn.end()
        return
    await handler(turn, codes)


@router.on_payload("part:ar:")
async def area_button(turn: Turn) -> None:
    official = await part(turn).official_for(turn.inbound.channel, turn.inbound.user_id)
    if official is None:
        turn.say("part.not_allowed")
        return
    choice = turn.args[0] if turn.args else ""
    await _done(turn, list(official.area_codes) if choice == "mine" else [])


@router.on_state("part:wiz:areas")
async def areas_typed(turn: Turn) -> None:
    parts = [p.strip() for p in re.split(r"[,;\n]+", turn.text) if p.strip()]
    if not parts:
        await ask(turn)
        return
    codes: list[str] = []
    for item in parts[:50]:
        area = await turn.store.areas.by_code(item) if item.isdigit() else None
        if area is None:
            matches = await turn.store.areas.search(item, limit=2)
            if matches and matches[0][1] >= SURE and (len(matches) == 1 or matches[1][1] < matches[0][1] - 0.05):
                area = matches[0][0]
        if area is None:
            turn.say("part.areas.unknown", name=item[:60])
            await ask(turn)
            return
        if area.code not in codes:
            codes.append(area.code)
    await _done(turn, codes)


@router.on_state("part:bc:preview", "part:pn:confirm", "part:pn:method", "part:pn:max", "part:pn:phone",
                 "part:cn:confirm")
async def tap_please(turn: Turn) -> None:
    """Steps that only take a button: anything else gets the same question again."""
    turn.say("part.use_buttons")
    if turn.session.prompt:
        turn.send(Outbound.from_dict(turn.session.prompt))
