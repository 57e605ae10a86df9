"""Opting in to a commune's announcements, and STOP honoured at once from anywhere.

`g:stop` is what "stop", "hủy đăng ký", "unsubscribe" (typed) and every unsubscribe button in a
broadcast mean; it ends all of the citizen's subscriptions immediately, whatever dialog is open.
"""

from __future__ import annotations

import logging

from bot.router import Router
from bot.turn import Turn
from dialogs.citizen.common import show_menu
from dialogs.participation.common import part
from dialogs.participation.home import on_ready, ready

log = logging.getLogger(__name__)
router = Router("part-subscriptions")
router.menu_item(50, "part.menu.subscribe", "part:sub")


@router.on_payload("part:sub", anytime=True)
async def subscribe_pressed(turn: Turn) -> None:
    if await ready(turn, "sub"):
        await _subscribe(turn, None)


@on_ready("sub")
async def _subscribe(turn: Turn, _: int | None) -> None:
    area_id = turn.citizen.home_area_id
    if area_id is None:
        show_menu(turn)
        return
    area = await turn.store.areas.get(area_id)
    new = await part(turn).subscribe(turn.citizen.id, area_id)
    log.info("subscription citizen=%s area=%s new=%s", turn.citizen.id, area_id, new)
    turn.session.reset()
    turn.ask("part.sub.done" if new else "part.sub.already",
             [[turn.btn("part.btn.unsubscribe", "g:stop"), turn.btn("menu.back", "g:menu")]],
             name=area.full_name if area else "")


@router.on_payload("g:stop", anytime=True)
async def stop(turn: Turn) -> None:
    stopped = await part(turn).stop_all(turn.citizen.id)
    log.info("stop citizen=%s subscriptions=%s", turn.citizen.id, stopped)
    turn.session.reset()
    turn.ask("part.sub.stopped" if stopped else "part.sub.none",
             [[turn.btn("part.menu.subscribe", "part:sub"), turn.btn("menu.back", "g:menu")]])
