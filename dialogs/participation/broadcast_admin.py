"""Organisers' broadcasts: `/broadcast` (text → optional image → areas → preview → confirm) and
`/broadcast status ID` (sent / failed / held / pending, progress)."""

from __future__ import annotations

from bot.broadcasts.text import progress_text
from bot.errors import MediaRejected
from bot.messages import Outbound
from bot.router import Router
from bot.turn import Turn
from dialogs.participation import targets
from dialogs.participation.common import bcasts, organiser, parse_id
from dialogs.participation.poll_admin import announce
from dialogs.participation.targets import on_targets, wizard

router = Router("part-broadcast-admin")
MAX_TEXT = 2000


@router.on_command("broadcast")
async def broadcast_command(turn: Turn) -> None:
    sub = turn.args[0].lower() if turn.args else "new"
    target = turn.args[1] if len(turn.args) > 1 else None
    official = await organiser(turn, f"broadcast.{sub}"[:48], target)
    if official is None:
        return
    turn.args = turn.args[1:]
    if sub == "status":
        await _status(turn)
    elif sub == "list":
        await _list(turn)
    elif sub == "new":
        turn.session.reset()
        turn.session.data["wiz"] = {"kind": "bc"}
        turn.ask("part.bcw.ask_text", [[turn.btn("common.cancel", "g:cancel")]], state="part:bc:text")
    else:
        turn.say("part.bcw.usage")


async def _status(turn: Turn) -> None:
    broadcast_id = parse_id(turn)
    info = await bcasts(turn).get(broadcast_id) if broadcast_id else None
    if info is None:
        turn.say("part.bcw.not_found")
        return
    progress = await bcasts(turn).progress(info.id)
    turn.say("part.raw", text=progress_text(turn.ctx.i18n, turn.locale, progress))


async def _list(turn: Turn) -> None:
    items = await bcasts(turn).recent()
    if not items:
        turn.say("part.bcw.none")
        return
    lines = [turn.t("part.bcw.list_header")]
    lines += [turn.t("part.bcw.list_line", id=b.id, kind=b.kind, count=b.planned_count,
                     state=turn.t(f"part.bc.state.{b.status}"), text=b.text[:50]) for b in items]
    turn.send(Outbound("\n".join(lines)))


@router.on_state("part:bc:text")
async def text_given(turn: Turn) -> None:
    if not turn.text:
        turn.ask("part.bcw.ask_text", [[turn.btn("common.cancel", "g:cancel")]], state="part:bc:text")
        return
    if len(turn.text) > MAX_TEXT:
        turn.say("part.bcw.too_long", max=MAX_TEXT)
        turn.ask("part.bcw.ask_text", [[turn.btn("common.cancel", "g:cancel")]], state="part:bc:text")
        return
    wizard(turn)["text"] = turn.text
    _ask_image(turn)


def _ask_image(turn: Turn) -> None:
    turn.ask("part.bcw.ask_image", [[turn.btn("part.bcw.no_image", "part:bc:noimg")],
                                    [turn.btn("common.cancel", "g:cancel")]], state="part:bc:image")


@router.on_state("part:bc:image")
async def image_given(turn: Turn) -> None:
    photo = next((m for m in turn.inbound.media if m.kind == "photo"), None)
    if photo is None:
        _ask_image(turn)
        return
    try:
        saved = await turn.store.media.save(photo)
    except MediaRejected:
        turn.say("part.bcw.bad_image")
        _ask_image(turn)
        return
    wizard(turn)["image"] = str(saved.path)
    await targets.ask(turn)


@router.on_payload("part:bc:noimg")
async def no_image(turn: Turn) -> None:
    wizard(turn).pop("image", None)
    await targets.ask(turn)


@on_targets("bc")
async def _areas_chosen(turn: Turn, codes: list[str]) -> None:
    count = await bcasts(turn).count_recipients(codes)
    wiz = wizard(turn)
    if count == 0:
        turn.ask("part.bc.no_recipients_change", [[turn.btn("part.bcw.other_areas", "part:bc:areas")],
                                                  [turn.btn("common.cancel", "g:cancel")]], state="part:bc:preview")
        return
    turn.say("part.bcw.preview_intro")
    turn.send(Outbound(turn.t("part.bc.announcement", text=wiz.get("text", "")), image=wiz.get("image")))
    turn.ask("part.bcw.confirm", [[turn.btn("part.bcw.send", "part:bc:send", count=count)],
                                  [turn.btn("part.bcw.other_areas", "part:bc:areas")],
                                  [turn.btn("common.cancel", "g:cancel")]], state="part:bc:preview", count=count)


@router.on_payload("part:bc:areas")
async def change_areas(turn: Turn) -> None:
    await targets.ask(turn)


@router.on_payload("part:bc:send")
async def send(turn: Turn) -> None:
    wiz = wizard(turn)
    official = await organiser(turn, "broadcast.send")
    if official is None or wiz.get("kind") != "bc" or not wiz.get("text"):
        turn.end()
        return
    turn.end()
    await announce(turn, kind="announcement", text=str(wiz["text"]), area_codes=list(wiz.get("areas", [])),
                   created_by=official.id, image=wiz.get("image"))
