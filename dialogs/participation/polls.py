"""Citizens and polls: open polls for my commune, the ballot, changing it until the poll closes.

Single choice: tapping an option (or typing its number) is the vote. Approval (up to N): taps
toggle options, then "send". The one-ballot rule is the database's; a second vote replaces the
first. Buttons of a poll work any time (they arrive in broadcasts); a poll that has closed, or
that is not for the citizen's commune, answers clearly instead.
"""

from __future__ import annotations

import logging

from bot.messages import Button
from bot.router import Router
from bot.store.participation import PollInfo, VoteRefused
from bot.turn import Turn
from dialogs.citizen.common import show_menu
from dialogs.participation.common import parse_id, part
from dialogs.participation.home import on_ready, ready

log = logging.getLogger(__name__)
router = Router("part-polls")
router.menu_item(40, "part.menu.polls", "part:polls")


@router.on_payload("part:polls", anytime=True)
async def open_polls(turn: Turn) -> None:
    if await ready(turn, "polls"):
        await _list(turn, None)


@on_ready("polls")
async def _list(turn: Turn, _: int | None) -> None:
    polls = await part(turn).open_polls_for(turn.citizen.home_area_id)
    turn.session.reset()
    if not polls:
        turn.ask("part.poll.none", [[turn.btn("menu.back", "g:menu")]])
        return
    rows = [[turn.raw_btn(turn.t("part.poll.button", question=p.question[:48]), f"part:poll:{p.id}")] for p in polls]
    rows.append([turn.btn("menu.back", "g:menu")])
    turn.ask("part.poll.pick", rows)


@router.on_payload("part:poll:", anytime=True)
async def poll_pressed(turn: Turn) -> None:
    poll_id = parse_id(turn)
    if poll_id is not None and await ready(turn, "poll", poll_id):
        await show(turn, poll_id)


@on_ready("poll")
async def show(turn: Turn, poll_id: int | None) -> None:
    poll = await part(turn).get_poll(poll_id) if poll_id is not None else None
    if poll is None:
        turn.say("part.vote.not_found")
        show_menu(turn)
        return
    if not poll.is_open(turn.clock.now()):
        await _closed(turn, poll)
        return
    mine = await part(turn).my_vote(poll.id, turn.citizen.id)
    turn.session.reset()
    when = turn.ctx.i18n.datetime(poll.closes_at, turn.locale)
    if poll.method == "approval":
        turn.session.data["ballot"] = {"poll": poll.id, "chosen": list(mine)}
        _ask_approval(turn, poll, list(mine))
        return
    rows = [[turn.raw_btn(_option_label(turn, i, label, i in mine), f"part:v:{poll.id}:{i}")]
            for i, label in enumerate(poll.options, start=1)]
    rows.append([turn.btn("menu.back", "g:menu")])
    key = "part.poll.ask_change" if mine else "part.poll.ask"
    turn.ask(key, rows, state=f"part:vote:{poll.id}", question=poll.question, closes=when)


def _option_label(turn: Turn, n: int, label: str, chosen: bool) -> str:
    key = "part.poll.option_chosen" if chosen else "part.poll.option"
    return turn.t(key, n=n, label=label)[:100]


def _ask_approval(turn: Turn, poll: PollInfo, chosen: list[int]) -> None:
    rows: list[list[Button]] = [[turn.raw_btn(_option_label(turn, i, label, i in chosen), f"part:t:{poll.id}:{i}")]
                                for i, label in enumerate(poll.options, start=1)]
    rows.append([turn.btn("part.poll.send", f"part:vs:{poll.id}"), turn.btn("menu.back", "g:menu")])
    turn.ask("part.poll.ask_approval", rows, state=f"part:vote:{poll.id}", question=poll.question,
             n=poll.max_choices, closes=turn.ctx.i18n.datetime(poll.closes_at, turn.locale))


async def _closed(turn: Turn, poll: PollInfo) -> None:
    turn.session.reset()
    turn.ask("part.vote.closed", [[turn.btn("part.poll.see_results", f"part:res:{poll.id}"),
                                   turn.btn("menu.back", "g:menu")]], question=poll.question)


@router.on_payload("part:res:", anytime=True)
async def results(turn: Turn) -> None:
    from bot.broadcasts.text import results_text

    poll_id = parse_id(turn)
    poll = await part(turn).get_poll(poll_id) if poll_id is not None else None
    if poll is None:
        turn.say("part.vote.not_found")
        return
    if poll.is_open(turn.clock.now()):
        turn.say("part.poll.results_after_close")
        return
    res = await part(turn).results(poll.id)
    turn.say("part.raw", text=results_text(turn.ctx.i18n, turn.locale, res, area_id=turn.citizen.home_area_id))
    show_menu(turn, "part.menu.after")


@router.on_payload("part:v:", anytime=True)
async def single_vote(turn: Turn) -> None:
    poll_id, position = parse_id(turn, 0), parse_id(turn, 1)
    if poll_id is None or position is None:
        turn.say("engine.stale_button")
        return
    if await ready(turn, "poll", poll_id):
        await cast(turn, poll_id, [position])


@router.on_payload("part:t:")
async def toggle(turn: Turn) -> None:
    poll_id, position = parse_id(turn, 0), parse_id(turn, 1)
    ballot = turn.session.data.get("ballot") or {}
    poll = await part(turn).get_poll(poll_id) if poll_id is not None else None
    if poll is None or position is None or ballot.get("poll") != poll.id:
        turn.say("engine.stale_button")
        return
    chosen: list[int] = list(ballot.get("chosen", []))
    if position in chosen:
        chosen.remove(position)
    elif len(chosen) >= poll.max_choices:
        turn.say("part.vote.too_many", n=poll.max_choices)
    elif 1 <= position <= len(poll.options):
        chosen.append(position)
    turn.session.data["ballot"] = {"poll": poll.id, "chosen": sorted(chosen)}
    _ask_approval(turn, poll, sorted(chosen))


@router.on_payload("part:vs:")
async def approval_send(turn: Turn) -> None:
    poll_id = parse_id(turn)
    ballot = turn.session.data.get("ballot") or {}
    if poll_id is None or ballot.get("poll") != poll_id:
        turn.say("engine.stale_button")
        return
    await cast(turn, poll_id, list(ballot.get("chosen", [])))


@router.on_state("part:vote:*")
async def typed_in_vote(turn: Turn) -> None:
    """Typed text while a ballot is shown: numbers are handled by the engine; else ask again."""
    poll_id = int(turn.session.state.rsplit(":", 1)[1])
    turn.say("part.vote.use_buttons")
    await show(turn, poll_id)


async def cast(turn: Turn, poll_id: int, positions: list[int]) -> None:
    repo = part(turn)
    try:
        outcome = await repo.vote(poll_id, turn.citizen.id, positions, area_id=turn.citizen.home_area_id,
                                  phone_verified=turn.citizen.phone_verified)
    except VoteRefused as exc:
        await _refused(turn, poll_id, exc.reason)
        return
    poll = await repo.get_poll(poll_id)
    assert poll is not None
    chosen = ", ".join(poll.options[p - 1] for p in outcome.positions)
    log.info("vote poll=%s changed=%s", poll_id, outcome.changed)
    turn.session.reset()
    turn.say("part.vote.changed" if outcome.changed else "part.vote.recorded", choice=chosen,
             closes=turn.ctx.i18n.datetime(poll.closes_at, turn.locale))
    show_menu(turn, "part.menu.after")


async def _refused(turn: Turn, poll_id: int, reason: str) -> None:
    poll = await part(turn).get_poll(poll_id)
    if reason == "closed" and poll is not None:
        await _closed(turn, poll)
        return
    if reason == "need_phone":
        turn.session.reset()
        turn.session.data["phone_for_poll"] = poll_id
        turn.ask("part.vote.need_phone", [[turn.btn("part.poll.share_phone", "part:phone")],
                                          [turn.btn("menu.back", "g:menu")]],
                 state="part:phone", request_contact=True)
        return
    if reason in ("out_of_range", "too_many", "empty") and poll is not None:
        turn.say(f"part.vote.{reason}", n=poll.max_choices, count=len(poll.options))
        await show(turn, poll.id)
        return
    turn.say(f"part.vote.{reason}" if reason in ("wrong_area", "no_area", "not_found") else "part.vote.not_found")
    show_menu(turn)


@router.on_payload("part:phone")
async def phone_hint(turn: Turn) -> None:
    turn.ask("part.vote.phone_hint", [[turn.btn("menu.back", "g:menu")]], state="part:phone", request_contact=True)


@router.on_state("part:phone")
async def phone_shared(turn: Turn) -> None:
    contact = turn.inbound.contact
    poll_id = turn.session.data.get("phone_for_poll")
    if contact is None or not contact.verified:
        turn.say("part.vote.phone_not_verified")
        show_menu(turn)
        return
    turn.citizen = await turn.store.citizens.set_verified_phone(turn.citizen.id, contact.phone)
    turn.say("part.vote.phone_saved")
    if isinstance(poll_id, int):
        await show(turn, poll_id)
    else:
        show_menu(turn)
