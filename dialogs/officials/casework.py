"""Working one case: /case, /ack, /assign, /reply, /status, /merge, /note, /priority, /audit,
and the case card's buttons (which ask for the text when one is needed)."""

from __future__ import annotations

from bot import casecode, sla
from bot.messages import Outbound
from bot.outbox.notices import officials_hook
from bot.router import Router
from bot.store.officials import OfficialInfo, jurisdiction_of
from bot.store.views import CaseInfo
from bot.turn import Turn
from dialogs.citizen.common import status_label
from dialogs.officials import cards
from dialogs.officials.actions import case_for, command_case, perform
from dialogs.officials.auth import CASE_WORKERS, Actor, actor, audit
from dialogs.officials.parse import BadCode, rest_of_command, take_code

REPLY_MAX = 2000  # Zalo's text limit; Telegram's is 4096
NOTE_MAX = 4000
STATUS_WORDS = ("in_progress", "resolved", "rejected")

router = Router("officials.casework")


# --- /case ---------------------------------------------------------------------------------


@router.on_command("case")
async def case_command(turn: Turn) -> None:
    found = await command_case(turn, "case")
    if found is not None:
        who, case, _ = found
        await _show(turn, who, case)


@router.on_payload("off:case:", anytime=True)
async def case_pressed(turn: Turn) -> None:
    who = await actor(turn, "case")
    code = casecode.normalize(turn.args[0]) if turn.args else None
    if who is None or code is None:
        return
    case = await case_for(turn, who, "case", code)
    if case is not None:
        await _show(turn, who, case)


async def _show(turn: Turn, who: Actor, case: CaseInfo) -> None:
    turn.session.state = ""
    await audit(turn, "case", allowed=True, official=who.official, target=case.code)
    await cards.show_case(turn, who, case)


async def _after(turn: Turn, who: Actor, case_id: int) -> None:
    """The fresh card after a change, so the next button press acts on the current version."""
    case = await turn.store.cases.get(case_id)
    if case is not None:
        turn.send(Outbound(await cards.card_text(turn, case), buttons=cards.card_buttons(turn, who, case)))


# --- acknowledge ---------------------------------------------------------------------------


@router.on_command("ack")
async def ack_command(turn: Turn) -> None:
    found = await command_case(turn, "ack")
    if found is not None:
        who, case, _ = found
        await _ack(turn, who, case, None)


@router.on_payload("off:ack:", anytime=True)
async def ack_pressed(turn: Turn) -> None:
    found = await _pressed(turn, "ack")
    if found is not None:
        who, case, version = found
        await _ack(turn, who, case, version)


async def _ack(turn: Turn, who: Actor, case: CaseInfo, version: int | None) -> None:
    change = await perform(turn, who, "ack", case, lambda hooks: turn.store.cases.acknowledge(
        case.id, official_id=who.official.id, expected_version=version, hooks=hooks))
    if change is not None:
        turn.say("off.done_ack", code=case.display_code)
        await _after(turn, who, case.id)


async def _pressed(turn: Turn, command: str) -> tuple[Actor, CaseInfo, int | None] | None:
    """For a card button `off:<cmd>:CODE[:…]:VERSION`: the actor, case and version."""
    who = await actor(turn, command)
    code = casecode.normalize(turn.args[0]) if turn.args else None
    if who is None or code is None:
        return None
    case = await case_for(turn, who, command, code)
    if case is None:
        return None
    version = int(turn.args[-1]) if len(turn.args) > 1 and turn.args[-1].isdigit() else None
    return who, case, version


# --- assign --------------------------------------------------------------------------------


@router.on_command("assign")
async def assign_command(turn: Turn) -> None:
    found = await command_case(turn, "assign")
    if found is None:
        return
    who, case, unit = found
    if not unit:
        turn.say("off.usage_assign")
        return
    await _assign(turn, who, case, unit)


@router.on_payload("off:assign:", anytime=True)
async def assign_pressed(turn: Turn) -> None:
    found = await _pressed(turn, "assign")
    if found is not None:
        _, case, _ = found
        turn.ask("off.ask_unit", [[turn.btn("off.btn_cancel", "off:cancel")]], state=f"off:assign:{case.code}",
                 code=case.display_code)


async def _assign(turn: Turn, who: Actor, case: CaseInfo, unit: str) -> None:
    unit = " ".join(unit.split())
    if len(unit) > 128:
        turn.say("off.too_long", limit=128, length=len(unit))
        return
    targets = await _unit_officials(turn, case, unit)
    change = await perform(turn, who, "assign", case, lambda hooks: turn.store.cases.assign(
        case.id, unit, official_id=who.official.id, hooks=hooks),
        extra_hooks=[officials_hook(turn.ctx.i18n, targets)], unit=unit)
    if change is not None:
        turn.session.state = ""
        turn.say("off.done_assign", code=case.display_code, unit=unit)
        await _after(turn, who, case.id)


async def _unit_officials(turn: Turn, case: CaseInfo, unit: str) -> list[OfficialInfo]:
    found = []
    for official in await turn.store.officials.list():
        if official.unit == unit and official.role in CASE_WORKERS and (
                await jurisdiction_of(turn.store.areas, official)).covers(case):
            found.append(official)
    return found


# --- reply, note, reject: commands or a button then the text -------------------------------


@router.on_command("reply")
async def reply_command(turn: Turn) -> None:
    found = await command_case(turn, "reply")
    if found is not None:
        who, case, text = found
        await _reply(turn, who, case, text)


@router.on_command("note")
async def note_command(turn: Turn) -> None:
    found = await command_case(turn, "note")
    if found is not None:
        who, case, text = found
        await _note(turn, who, case, text)


@router.on_payload("off:reply:", anytime=True)
async def reply_pressed(turn: Turn) -> None:
    await _ask_text(turn, "reply", "off.ask_reply")


@router.on_payload("off:note:", anytime=True)
async def note_pressed(turn: Turn) -> None:
    await _ask_text(turn, "note", "off.ask_note")


@router.on_payload("off:reject:", anytime=True)
async def reject_pressed(turn: Turn) -> None:
    await _ask_text(turn, "status", "off.ask_reason", state_kind="reject")


async def _ask_text(turn: Turn, command: str, key: str, *, state_kind: str | None = None) -> None:
    found = await _pressed(turn, command)
    if found is not None:
        _, case, _ = found
        turn.ask(key, [[turn.btn("off.btn_cancel", "off:cancel")]],
                 state=f"off:{state_kind or command}:{case.code}", code=case.display_code)


@router.on_payload("off:cancel", anytime=True)
async def cancel_pressed(turn: Turn) -> None:
    turn.session.state = ""
    turn.say("off.cancelled")


@router.on_state("off:*")
async def text_given(turn: Turn) -> None:
    """The text an official types after pressing reply / note / reject / assign."""
    _, kind, code = ([*turn.session.state.split(":"), "", ""])[:3]
    command = {"reply": "reply", "note": "note", "reject": "status", "assign": "assign"}.get(kind)
    if command is None:
        turn.session.state = ""
        return
    who = await actor(turn, command)
    if who is None:
        turn.session.state = ""
        return
    if not turn.text:
        turn.ask("off.need_text", [[turn.btn("off.btn_cancel", "off:cancel")]])
        return
    case = await case_for(turn, who, command, code)
    if case is None:
        turn.session.state = ""
        return
    if kind == "reply":
        await _reply(turn, who, case, turn.text)
    elif kind == "note":
        await _note(turn, who, case, turn.text)
    elif kind == "reject":
        await _set_status(turn, who, case, "rejected", turn.text, None)
    else:
        await _assign(turn, who, case, turn.text)


async def _reply(turn: Turn, who: Actor, case: CaseInfo, text: str) -> None:
    text = text.strip()
    if not text:
        turn.say("off.usage_reply")
        return
    if len(text) > REPLY_MAX:
        await audit(turn, "reply", allowed=False, official=who.official, target=case.code, reason="too_long",
                    length=len(text))
        turn.say("off.too_long", limit=REPLY_MAX, length=len(text))
        return
    change = await perform(turn, who, "reply", case, lambda hooks: turn.store.cases.reply(
        case.id, text, official_id=who.official.id, hooks=hooks), length=len(text))
    if change is not None:
        turn.session.state = ""
        turn.say("off.done_reply", code=case.display_code)


async def _note(turn: Turn, who: Actor, case: CaseInfo, text: str) -> None:
    text = text.strip()
    if not text:
        turn.say("off.usage_note")
        return
    if len(text) > NOTE_MAX:
        turn.say("off.too_long", limit=NOTE_MAX, length=len(text))
        return
    change = await perform(turn, who, "note", case, lambda hooks: turn.store.cases.add_note(
        case.id, text, official_id=who.official.id, hooks=hooks))
    if change is not None:
        turn.session.state = ""
        turn.say("off.done_note", code=case.display_code)


# --- status --------------------------------------------------------------------------------


@router.on_command("status")
async def status_command(turn: Turn) -> None:
    found = await command_case(turn, "status")
    if found is None:
        return
    who, case, rest = found
    word, _, note = rest.partition(" ")
    status = word.strip().lower()
    if status not in STATUS_WORDS:
        await audit(turn, "status", allowed=False, official=who.official, target=case.code, reason="bad_args")
        turn.say("off.usage_status")
        return
    await _set_status(turn, who, case, status, note.strip() or None, None)


@router.on_payload("off:st:", anytime=True)
async def status_pressed(turn: Turn) -> None:
    found = await _pressed(turn, "status")
    if found is None:
        return
    who, case, version = found
    status = turn.args[1] if len(turn.args) > 1 else ""
    if status not in ("in_progress", "resolved"):
        return
    await _set_status(turn, who, case, status, None, version)


async def _set_status(turn: Turn, who: Actor, case: CaseInfo, status: str, note: str | None,
                      version: int | None) -> None:
    if status == "rejected" and not note:
        await audit(turn, "status", allowed=False, official=who.official, target=case.code, reason="no_reason")
        turn.say("off.reason_required")
        return
    if note and len(note) > REPLY_MAX:
        turn.say("off.too_long", limit=REPLY_MAX, length=len(note))
        return
    change = await perform(turn, who, "status", case, lambda hooks: turn.store.cases.set_status(
        case.id, status, official_id=who.official.id, note=note, expected_version=version, hooks=hooks),
        status=status)
    if change is not None:
        turn.session.state = ""
        turn.say("off.done_status", code=case.display_code, status=status_label(turn, status))
        await _after(turn, who, case.id)


# --- merge ---------------------------------------------------------------------------------


@router.on_command("merge")
async def merge_command(turn: Turn) -> None:
    found = await command_case(turn, "merge")
    if found is None:
        return
    who, case, rest = found
    try:
        into_code, _ = take_code(rest)
    except BadCode:
        turn.say("off.usage_merge")
        return
    into = await case_for(turn, who, "merge", into_code)
    if into is None:
        return
    if into.id == case.id:
        turn.say("off.merge_same")
        return
    change = await perform(turn, who, "merge", case, lambda hooks: turn.store.cases.merge(
        case.id, into.id, official_id=who.official.id, hooks=hooks), into=into.code)
    if change is not None:
        turn.say("off.done_merge", code=case.display_code, into=into.display_code)


# --- priority ------------------------------------------------------------------------------


@router.on_command("priority")
async def priority_command(turn: Turn) -> None:
    found = await command_case(turn, "priority")
    if found is None:
        return
    who, case, rest = found
    priority = rest.strip().lower()
    if priority not in ("urgent", "normal"):
        turn.say("off.usage_priority")
        return
    ack_due, due = sla.due_times(turn.settings, case.created_at, case.category, priority)
    change = await perform(turn, who, "priority", case, lambda hooks: turn.store.cases.set_priority(
        case.id, priority, official_id=who.official.id, ack_due_at=ack_due, due_at=due, hooks=hooks),
        priority=priority)
    if change is not None:
        turn.say("off.done_priority", code=case.display_code, priority=turn.t(f"off.priority_{priority}"),
                 due=cards.when(turn, due))


# --- audit ---------------------------------------------------------------------------------


@router.on_command("audit")
async def audit_command(turn: Turn) -> None:
    who = await actor(turn, "audit")
    if who is None:
        return
    try:
        code, _ = take_code(rest_of_command(turn.text))
    except BadCode:
        turn.say("off.usage_audit")
        return
    case = await case_for(turn, who, "audit", code)
    if case is None:
        return
    await audit(turn, "audit", allowed=True, official=who.official, target=case.code)
    entries = await turn.store.audit.for_target(case.code)
    names = {o.id: o for o in await turn.store.officials.list(active_only=False)}
    lines = [turn.t("off.audit_header", code=case.display_code, count=len(entries))]
    for entry in entries[-30:]:
        by = names.get(entry.official_id) if entry.official_id else None
        lines.append(turn.t("off.audit_line", when=cards.when(turn, entry.created_at), action=entry.action,
                            mark="✅" if entry.allowed else "⛔",
                            who=_who(turn, by), reason=str(entry.detail.get("reason", ""))))
    turn.send(Outbound("\n".join(lines)))


def _who(turn: Turn, official: OfficialInfo | None) -> str:
    if official is None:
        return turn.t("off.audit_unknown")
    return turn.t("off.audit_who", name=official.display_name or official.role, unit=official.unit)

