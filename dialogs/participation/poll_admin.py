"""Organisers' poll commands: `/poll new` (guided), `/poll list`, `/poll close ID`, `/poll results ID`.

The wizard: question → options (2–10, one a line) → areas → close time → method (one choice, or
approve up to N) → verified phone or not → preview → open (and optionally announce to subscribers).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.broadcasts.chart import results_png
from bot.broadcasts.planner import BroadcastPlanner
from bot.broadcasts.text import results_text
from bot.errors import InvalidInput
from bot.messages import Button, Media, Outbound
from bot.router import Router
from bot.store.participation import MAX_OPTIONS, MIN_OPTIONS
from bot.turn import Turn
from dialogs.participation import targets
from dialogs.participation.common import audit, bcasts, organiser, parse_deadline, parse_id, part
from dialogs.participation.targets import on_targets, wizard

router = Router("part-poll-admin")
INLINE_PLAN_CHUNKS = 5  # plan this many chunks in the turn; the background planner does the rest


def _cancel_row(turn: Turn) -> list[Button]:
    return [turn.btn("common.cancel", "g:cancel")]


@router.on_command("poll")
async def poll_command(turn: Turn) -> None:
    sub = turn.args[0].lower() if turn.args else "list"
    target = turn.args[1] if len(turn.args) > 1 else None
    official = await organiser(turn, f"poll.{sub}"[:48], target)
    if official is None:
        return
    turn.args = turn.args[1:]
    if sub == "new":
        turn.session.reset()
        turn.session.data["wiz"] = {"kind": "poll", "options": []}
        turn.ask("part.pn.ask_question", [[turn.btn("common.cancel", "g:cancel")]], state="part:pn:q")
    elif sub == "list":
        await _list(turn)
    elif sub == "close":
        await _close(turn)
    elif sub in ("results", "result"):
        await show_results(turn)
    else:
        turn.say("part.pn.usage")


async def _list(turn: Turn) -> None:
    polls = await part(turn).list_polls(limit=15)
    if not polls:
        turn.say("part.pn.none")
        return
    fmt = turn.ctx.i18n.datetime
    lines = [turn.t("part.pn.list_header")]
    for p in polls:
        lines.append(turn.t("part.pn.list_line", id=p.id, question=p.question[:60],
                            state=turn.t(f"part.poll.state.{p.status}"), closes=fmt(p.closes_at, turn.locale)))
    turn.send(Outbound("\n".join(lines)))


async def _close(turn: Turn) -> None:
    poll_id = parse_id(turn)
    poll = await part(turn).get_poll(poll_id) if poll_id else None
    if poll is None:
        turn.say("part.pn.not_found")
        return
    official = await organiser(turn, "poll.close.do", str(poll.id))
    if official is None:
        return
    if poll.status == "closed":
        turn.say("part.pn.already_closed", id=poll.id)
        return
    broadcast_id = await BroadcastPlanner(turn.store).close_poll(poll.id)
    progress = await bcasts(turn).progress(broadcast_id)
    await audit(turn, official, "poll.closed", str(poll.id), results_broadcast=broadcast_id)
    turn.say("part.pn.closed", id=poll.id, count=progress.total, broadcast=broadcast_id)


async def show_results(turn: Turn) -> None:
    poll_id = parse_id(turn)
    repo = part(turn)
    poll = await repo.get_poll(poll_id) if poll_id else None
    if poll is None:
        turn.say("part.pn.not_found")
        return
    results = await repo.results(poll.id)
    text = results_text(turn.ctx.i18n, turn.locale, results, areas=8)
    image: str | None = None
    if results.voters:
        png = await results_png(results, poll.question, turn.t("part.results.overall"))
        saved = await turn.store.media.save(Media("photo", data=png, mime="image/png"))
        image = str(saved.path)
    turn.send(Outbound(text, image=image))


# --- the wizard --------------------------------------------------------------------------


@router.on_state("part:pn:q")
async def question_given(turn: Turn) -> None:
    if not turn.text:
        turn.ask("part.pn.ask_question", [_cancel_row(turn)], state="part:pn:q")
        return
    wizard(turn)["question"] = turn.text[:500]
    await _ask_option(turn)


async def _ask_option(turn: Turn) -> None:
    options = wizard(turn).setdefault("options", [])
    rows = [[turn.btn("part.pn.options_done", "part:pn:optdone")]] if len(options) >= MIN_OPTIONS else []
    rows.append([turn.btn("common.cancel", "g:cancel")])
    turn.ask("part.pn.ask_option", rows, state="part:pn:opt", n=len(options) + 1, max=MAX_OPTIONS)


@router.on_state("part:pn:opt")
async def option_given(turn: Turn) -> None:
    options: list[str] = wizard(turn).setdefault("options", [])
    for line in turn.text.splitlines():
        line = line.strip().lstrip("-•*").strip()
        if line and len(options) < MAX_OPTIONS:
            options.append(line[:200])
    if len(options) >= MAX_OPTIONS:
        turn.say("part.pn.options_full", max=MAX_OPTIONS)
        await targets.ask(turn)
        return
    await _ask_option(turn)


@router.on_payload("part:pn:optdone")
async def options_done(turn: Turn) -> None:
    if len(wizard(turn).get("options", [])) < MIN_OPTIONS:
        await _ask_option(turn)
        return
    await targets.ask(turn)


@on_targets("poll")
async def _areas_chosen(turn: Turn, codes: list[str]) -> None:
    await _ask_close(turn)


async def _ask_close(turn: Turn) -> None:
    turn.ask("part.pn.ask_close", [[turn.btn("part.days", "part:pn:days:1", n=1),
                                    turn.btn("part.days", "part:pn:days:3", n=3),
                                    turn.btn("part.days", "part:pn:days:7", n=7)], _cancel_row(turn)],
             state="part:pn:close")


@router.on_payload("part:pn:days:")
async def close_days(turn: Turn) -> None:
    days = parse_id(turn) or 7
    await _close_chosen(turn, turn.clock.now() + timedelta(days=min(days, 60)))


@router.on_state("part:pn:close")
async def close_typed(turn: Turn) -> None:
    when = parse_deadline(turn.text, turn.clock.now(), turn.settings.timezone)
    if when is None:
        turn.say("part.bad_date")
        await _ask_close(turn)
        return
    await _close_chosen(turn, when)


async def _close_chosen(turn: Turn, when: datetime) -> None:
    wizard(turn)["closes_at"] = when.isoformat()
    turn.ask("part.pn.ask_method", [[turn.btn("part.pn.single", "part:pn:m:single"),
                                     turn.btn("part.pn.approval", "part:pn:m:approval")], _cancel_row(turn)],
             state="part:pn:method")


@router.on_payload("part:pn:m:")
async def method_chosen(turn: Turn) -> None:
    method = "approval" if turn.args and turn.args[0] == "approval" else "single"
    wizard(turn)["method"] = method
    if method == "approval":
        n = len(wizard(turn).get("options", []))
        # Buttons 1..n so that a typed number means the same as the button it names.
        buttons = [turn.raw_btn(f"{i}", f"part:pn:max:{i}") for i in range(1, n + 1)]
        turn.ask("part.pn.ask_max", [buttons[i:i + 5] for i in range(0, n, 5)], state="part:pn:max")
        return
    wizard(turn)["max"] = 1
    await _ask_phone(turn)


@router.on_payload("part:pn:max:")
async def max_chosen(turn: Turn) -> None:
    wizard(turn)["max"] = parse_id(turn) or 1
    await _ask_phone(turn)


async def _ask_phone(turn: Turn) -> None:
    turn.ask("part.pn.ask_phone", [[turn.btn("part.pn.phone_yes", "part:pn:ph:yes"),
                                    turn.btn("part.pn.phone_no", "part:pn:ph:no")]], state="part:pn:phone")


@router.on_payload("part:pn:ph:")
async def phone_chosen(turn: Turn) -> None:
    wiz = wizard(turn)
    wiz["phone"] = bool(turn.args) and turn.args[0] == "yes"
    from dialogs.participation.common import area_names

    lines = [turn.t("part.pn.preview", question=wiz.get("question", ""))]
    lines += [f"{i}. {o}" for i, o in enumerate(wiz.get("options", []), start=1)]
    lines.append(turn.t("part.pn.preview_areas", names=await area_names(turn, wiz.get("areas", []))))
    lines.append(turn.t("part.pn.preview_close",
                        when=turn.ctx.i18n.datetime(datetime.fromisoformat(wiz["closes_at"]), turn.locale)))
    lines.append(turn.t("part.pn.preview_single") if wiz.get("method") != "approval"
                 else turn.t("part.pn.preview_approval", n=wiz.get("max", 1)))
    if wiz["phone"]:
        lines.append(turn.t("part.pn.preview_phone"))
    turn.send(Outbound("\n".join(lines)))
    turn.ask("part.pn.confirm", [[turn.btn("part.pn.open", "part:pn:go:open")],
                                 [turn.btn("part.pn.open_announce", "part:pn:go:announce")], _cancel_row(turn)],
             state="part:pn:confirm")


@router.on_payload("part:pn:go:")
async def go(turn: Turn) -> None:
    wiz = wizard(turn)
    official = await organiser(turn, "poll.create")
    if official is None or wiz.get("kind") != "poll":
        turn.end()
        return
    try:
        poll = await part(turn).create_poll(
            question=wiz.get("question", ""), options=wiz.get("options", []), area_codes=wiz.get("areas", []),
            closes_at=datetime.fromisoformat(wiz["closes_at"]), method=wiz.get("method", "single"),
            max_choices=int(wiz.get("max", 1)), require_verified_phone=bool(wiz.get("phone")),
            created_by=official.id)
    except (InvalidInput, KeyError):
        turn.end()
        turn.say("part.pn.invalid")
        return
    await audit(turn, official, "poll.created", str(poll.id), areas=list(poll.area_codes))
    turn.end()
    turn.say("part.pn.opened", id=poll.id)
    if turn.args and turn.args[0] == "announce":
        await announce(turn, kind="poll", text=poll.question, area_codes=list(poll.area_codes), poll_id=poll.id,
                       created_by=official.id)


async def announce(turn: Turn, *, kind: str, text: str, area_codes: list[str], created_by: int,
                   poll_id: int | None = None, consultation_id: int | None = None, image: str | None = None) -> None:
    """Create and plan a broadcast to the areas' subscribers, then say how many will get it."""
    repo = bcasts(turn)
    if await repo.count_recipients(area_codes) == 0:
        turn.say("part.bc.no_recipients")
        return
    broadcast = await repo.create(kind=kind, text=text, image=image, area_codes=area_codes, poll_id=poll_id,
                                  consultation_id=consultation_id, created_by=created_by)
    planner = BroadcastPlanner(turn.store)
    for _ in range(INLINE_PLAN_CHUNKS):
        if await repo.plan_chunk(broadcast.id, planner.chunk) is None:
            break
    await turn.store.audit.record(official_id=created_by, channel=turn.inbound.channel,
                                  channel_user_id=turn.inbound.user_id, action="broadcast.created",
                                  target=str(broadcast.id), allowed=True,
                                  detail={"kind": kind, "areas": area_codes})
    progress = await repo.progress(broadcast.id)
    turn.say("part.bc.queued", id=broadcast.id, count=max(progress.total, progress.broadcast.planned_count))
