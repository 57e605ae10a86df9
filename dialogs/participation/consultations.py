"""Citizens and consultations: read the summary, pick an answer, comment by text or voice.

Comments are kept with the citizen and their commune; voice notes become attachments of the
comment. A closed consultation, or one for another area, answers clearly.
"""

from __future__ import annotations

from bot.errors import InvalidInput
from bot.router import Router
from bot.turn import Turn
from dialogs.citizen.common import show_menu
from dialogs.participation.common import parse_id, part
from dialogs.participation.home import on_ready, ready

router = Router("part-consultations")
router.menu_item(45, "part.menu.consultations", "part:consults")


@router.on_payload("part:consults", anytime=True)
async def open_consultations(turn: Turn) -> None:
    if await ready(turn, "consults"):
        await _list(turn, None)


@on_ready("consults")
async def _list(turn: Turn, _: int | None) -> None:
    items = await part(turn).open_consultations_for(turn.citizen.home_area_id)
    turn.session.reset()
    if not items:
        turn.ask("part.consult.none", [[turn.btn("menu.back", "g:menu")]])
        return
    rows = [[turn.raw_btn(turn.t("part.consult.button", title=c.title[:48]), f"part:c:{c.id}")] for c in items]
    rows.append([turn.btn("menu.back", "g:menu")])
    turn.ask("part.consult.pick", rows)


@router.on_payload("part:c:", anytime=True)
async def consultation_pressed(turn: Turn) -> None:
    cid = parse_id(turn)
    if cid is not None and await ready(turn, "consult", cid):
        await show(turn, cid)


async def _usable(turn: Turn, cid: int | None) -> bool:
    repo = part(turn)
    cons = await repo.get_consultation(cid) if cid is not None else None
    if cons is None:
        turn.say("part.consult.not_found")
        show_menu(turn)
        return False
    if not cons.is_open(turn.clock.now()):
        turn.say("part.consult.closed", title=cons.title)
        show_menu(turn)
        return False
    if not repo.in_scope(cons.area_codes, await repo.area_scope(turn.citizen.home_area_id)):
        turn.say("part.consult.wrong_area")
        show_menu(turn)
        return False
    return True


@on_ready("consult")
async def show(turn: Turn, cid: int | None) -> None:
    if not await _usable(turn, cid):
        return
    assert cid is not None
    cons = await part(turn).get_consultation(cid)
    assert cons is not None
    turn.session.reset()
    lines = [turn.t("part.consult.card", title=cons.title, summary=cons.summary,
                    deadline=turn.ctx.i18n.datetime(cons.deadline, turn.locale))]
    if cons.link:
        lines.append(turn.t("part.consult.link", link=cons.link))
    if cons.question and cons.options:
        turn.say("part.raw", text="\n".join(lines))
        rows = [[turn.raw_btn(turn.t("part.poll.option", n=i, label=o), f"part:cc:{cons.id}:{i}")]
                for i, o in enumerate(cons.options, start=1)]
        rows.append([turn.btn("part.consult.write", f"part:cw:{cons.id}"), turn.btn("menu.back", "g:menu")])
        turn.ask("part.consult.ask_choice", rows, question=cons.question)
        return
    turn.say("part.raw", text="\n".join(lines))
    _ask_comment(turn, cons.id)


def _ask_comment(turn: Turn, cid: int) -> None:
    turn.session.data["consult"] = cid
    turn.ask("part.consult.ask_comment", [[turn.btn("menu.back", "g:menu")]], state="part:comment")


@router.on_payload("part:cc:", anytime=True)
async def choice_pressed(turn: Turn) -> None:
    cid, position = parse_id(turn, 0), parse_id(turn, 1)
    if cid is None or position is None or not await ready(turn, "consult", cid) or not await _usable(turn, cid):
        return
    cons = await part(turn).get_consultation(cid)
    assert cons is not None
    if not 1 <= position <= len(cons.options):
        turn.say("part.vote.out_of_range", count=len(cons.options), n=1)
        await show(turn, cid)
        return
    await part(turn).add_comment(cid, turn.citizen.id, area_id=turn.citizen.home_area_id,
                                 choice=cons.options[position - 1])
    turn.say("part.consult.choice_saved", choice=cons.options[position - 1])
    turn.ask("part.consult.more", [[turn.btn("part.consult.write", f"part:cw:{cid}"),
                                    turn.btn("menu.back", "g:menu")]])


@router.on_payload("part:cw:")
async def write_pressed(turn: Turn) -> None:
    cid = parse_id(turn)
    if cid is not None and await _usable(turn, cid):
        _ask_comment(turn, cid)


@router.on_state("part:comment")
async def comment_given(turn: Turn) -> None:
    cid = turn.session.data.get("consult")
    voice = [m for m in turn.inbound.media if m.kind in ("voice", "audio")]
    if not isinstance(cid, int):
        show_menu(turn)
        return
    if not (turn.text or voice):
        turn.say("part.consult.need_text")
        _ask_comment(turn, cid)
        return
    try:
        await part(turn).add_comment(cid, turn.citizen.id, area_id=turn.citizen.home_area_id,
                                     text=turn.text or None, media=voice)
    except InvalidInput:
        turn.say("part.consult.closed_now")
        show_menu(turn)
        return
    turn.session.reset()
    turn.say("part.consult.thanks")
    show_menu(turn, "part.menu.after")
