"""Closing the loop with the citizen after "resolved": fixed or not (buttons that arrive any
time later), an optional new photo when not fixed, then a 1–5 rating. Not fixed reopens the
case and tells the officials handling it."""

from __future__ import annotations

from bot import casecode
from bot.errors import InvalidInput
from bot.outbox.notices import officials_hook
from bot.router import Router
from bot.store.caseflow import BadTransition
from bot.store.views import CaseInfo
from bot.turn import Turn
from dialogs.officials.auth import officials_for_case

router = Router("officials.feedback")


async def _own_case(turn: Turn) -> CaseInfo | None:
    code = casecode.normalize(turn.args[0]) if turn.args else None
    case = await turn.store.cases.get_by_code(code) if code else None
    if case is None:
        turn.say("notify.fb_unknown")
        return None
    if case.citizen_id != turn.citizen.id:
        turn.say("notify.fb_not_owner", code=case.display_code)
        return None
    return case


def _ask_rating(turn: Turn, case: CaseInfo) -> None:
    stars = [turn.btn(f"notify.btn_star_{n}", f"fb:rate:{case.code}:{n}") for n in range(1, 6)]
    turn.ask("notify.ask_rating", [stars[:3], stars[3:]], code=case.display_code)


@router.on_payload("fb:fixed:", anytime=True)
async def fixed(turn: Turn) -> None:
    case = await _own_case(turn)
    if case is None:
        return
    try:
        await turn.store.cases.feedback(case.id, turn.citizen.id, fixed=True)
    except (BadTransition, InvalidInput):
        turn.say("notify.fb_already", code=case.display_code)
        return
    turn.session.reset()
    turn.say("notify.fb_thanks_fixed", code=case.display_code)
    _ask_rating(turn, case)


@router.on_payload("fb:notfixed:", anytime=True)
async def not_fixed(turn: Turn) -> None:
    case = await _own_case(turn)
    if case is None:
        return
    handlers = await officials_for_case(turn, case)
    try:
        await turn.store.cases.feedback(case.id, turn.citizen.id, fixed=False,
                                        hooks=[officials_hook(turn.ctx.i18n, handlers)])
    except (BadTransition, InvalidInput):
        turn.say("notify.fb_already", code=case.display_code)
        return
    turn.ask("notify.fb_reopened", [[turn.btn("notify.btn_no_photo", f"fb:nophoto:{case.code}")]],
             state=f"fb:photo:{case.code}", code=case.display_code)


@router.on_state("fb:photo:*")
async def photo_given(turn: Turn) -> None:
    code = turn.session.state.removeprefix("fb:photo:")
    case = await turn.store.cases.get_by_code(code)
    photos = [m for m in turn.inbound.media if m.kind == "photo"]
    if case is None or case.citizen_id != turn.citizen.id:
        turn.session.reset()
        return
    if not photos:
        turn.ask("notify.fb_photo_or_skip", [[turn.btn("notify.btn_no_photo", f"fb:nophoto:{case.code}")]])
        return
    await turn.store.cases.add_attachments(case.id, photos)
    turn.session.reset()
    turn.say("notify.fb_photo_saved")
    _ask_rating(turn, case)


@router.on_payload("fb:nophoto:", anytime=True)
async def no_photo(turn: Turn) -> None:
    case = await _own_case(turn)
    turn.session.reset()
    if case is not None:
        _ask_rating(turn, case)


@router.on_payload("fb:rate:", anytime=True)
async def rate(turn: Turn) -> None:
    case = await _own_case(turn)
    if case is None:
        return
    stars = int(turn.args[1]) if len(turn.args) > 1 and turn.args[1].isdigit() else 0
    try:
        await turn.store.cases.rate(case.id, turn.citizen.id, stars)
    except (BadTransition, InvalidInput):
        turn.say("notify.fb_rating_invalid")
        return
    turn.session.reset()
    turn.say("notify.fb_rated", stars="⭐" * stars)
