"""Following a case: my cases, lookup by code, the timeline. Anyone holding a code sees the
public status; only the owner (and officials, in their own dialogs) see details."""

from __future__ import annotations

from bot import casecode
from bot.router import Router
from bot.store.caseflow import OPEN_STATUSES
from bot.store.views import CaseInfo
from bot.turn import Turn
from dialogs.citizen.common import case_button, category_label, status_label

router = Router("status")
TIMELINE_LIMIT = 8


@router.on_payload("status:mine", anytime=True)
async def my_cases(turn: Turn) -> None:
    cases = await turn.store.cases.list_for_citizen(turn.citizen.id, limit=8)
    turn.session.reset()
    if not cases:
        turn.ask("status.none", [[turn.btn("menu.report", "report:start"), turn.btn("menu.back", "g:menu")]])
        return
    rows = [[case_button(turn, c)] for c in cases]
    rows.append([turn.btn("menu.lookup", "status:lookup"), turn.btn("menu.back", "g:menu")])
    turn.ask("status.pick", rows)


@router.on_payload("status:lookup", anytime=True)
async def ask_code(turn: Turn) -> None:
    turn.session.reset()
    turn.ask("status.ask_code", [[turn.btn("menu.back", "g:menu")]], state="status:code")


@router.on_state("status:code")
async def code_typed(turn: Turn) -> None:
    if await show_for_text(turn):
        return
    key = "status.code_typo" if casecode.looks_like_code(turn.text) else "status.code_invalid"
    turn.ask(key, [[turn.btn("menu.back", "g:menu")]], state="status:code")


async def show_for_text(turn: Turn) -> bool:
    """If the text holds a valid case code, show that case. True when it did."""
    code = casecode.normalize(turn.text)
    if code is None:
        return False
    case = await turn.store.cases.get_by_code(code)
    if case is None:
        turn.ask("status.not_found", [[turn.btn("menu.lookup", "status:lookup"),
                                       turn.btn("menu.back", "g:menu")]], code=casecode.display(code))
        turn.session.state = ""
        return True
    await show_case(turn, case)
    return True


@router.on_payload("status:show:", anytime=True)
async def show_pressed(turn: Turn) -> None:
    code = casecode.normalize(turn.args[0]) if turn.args else None
    case = await turn.store.cases.get_by_code(code) if code else None
    if case is None:
        turn.say("status.not_found", code=turn.args[0][:16] if turn.args else "")
        return
    await show_case(turn, case)


async def show_case(turn: Turn, case: CaseInfo) -> None:
    turn.session.reset()
    while case.merged_into_id is not None:  # a duplicate: follow the surviving case
        survivor = await turn.store.cases.get(case.merged_into_id)
        if survivor is None:
            break
        turn.say("status.merged", code=case.display_code, into=survivor.display_code)
        case = survivor
    owner = case.citizen_id == turn.citizen.id
    fmt = turn.ctx.i18n.datetime
    lines = [turn.t("status.header", code=case.display_code),
             turn.t("status.line_status", status=status_label(turn, case.status)),
             turn.t("status.line_category", category=category_label(turn, case.category))]
    if case.area_name:
        lines.append(turn.t("status.line_area", name=case.area_name))
    lines.append(turn.t("status.line_updated", when=fmt(case.updated_at, turn.locale)))
    if case.due_at is not None and case.status not in ("resolved", "closed", "rejected", "duplicate"):
        lines.append(turn.t("status.line_due", when=fmt(case.due_at, turn.locale)))
    if owner:
        lines.append(turn.t("status.line_created", when=fmt(case.created_at, turn.locale)))
        if case.description:
            text = case.description
            lines.append(turn.t("status.line_description",
                                text=text if len(text) <= 300 else text[:300] + "…"))
        events = [e for e in await turn.store.cases.timeline(case.id) if e.public]
        if events:
            lines.append("")
            lines.append(turn.t("status.timeline"))
            for event in events[-TIMELINE_LIMIT:]:
                lines.append(turn.t("status.event_line", when=fmt(event.created_at, turn.locale),
                                    what=_event_text(turn, event.kind, event.to_status, event.body)))
    else:
        lines.append(turn.t("status.public_only"))
    supporters = await turn.store.cases.supporter_count(case.id)
    if supporters:
        lines.append(turn.t("status.line_supporters", count=supporters))
    rows = [[turn.btn("menu.my_cases", "status:mine"), turn.btn("menu.back", "g:menu")]]
    if not owner and case.status in OPEN_STATUSES:
        rows.insert(0, [turn.btn("status.support", f"status:support:{case.code}")])
    turn.ask("status.card", rows, card="\n".join(lines))


@router.on_payload("status:support:", anytime=True)
async def support(turn: Turn) -> None:
    """"Me too": the neighbour follows the case and counts as a co-signer."""
    if not turn.citizen.has_consent:
        from dialogs.citizen import onboarding

        await onboarding.start(turn)
        return
    case = await turn.store.cases.get_by_code(turn.args[0]) if turn.args else None
    if case is None:
        turn.say("status.not_found", code=turn.args[0][:16] if turn.args else "")
        return
    added = await turn.store.cases.add_supporter(case.id, turn.citizen.id)
    turn.ask("status.supported" if added else "status.already_supporting",
             [[turn.btn("menu.back", "g:menu")]], code=case.display_code)


def _event_text(turn: Turn, kind: str, to_status: str | None, body: str | None) -> str:
    if kind == "status" and to_status:
        text = turn.t("event.status", status=status_label(turn, to_status))
        return f"{text}: {body}" if body else text
    if kind == "reply" and body:
        return turn.t("event.reply", text=body)
    if turn.ctx.i18n.has(f"event.{kind}", turn.locale):
        return turn.t(f"event.{kind}")
    return turn.t("event.other")
