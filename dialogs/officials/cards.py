"""What an official sees: the case card (with its action buttons), photos, map location,
timeline, and inbox lines. Citizens' chat ids and phone numbers never appear; an anonymous
citizen's name does not either."""

from __future__ import annotations

from bot.messages import Button, Outbound
from bot.store.caseflow import OPEN_STATUSES
from bot.store.casequeries import is_overdue
from bot.store.views import CaseInfo, EventInfo
from bot.turn import Turn
from dialogs.citizen.common import category_label, status_label
from dialogs.officials.auth import Actor

TIMELINE_LIMIT = 10
MAP_URL = "https://www.google.com/maps?q={lat:.6f},{lon:.6f}"


def when(turn: Turn, value: object) -> str:
    from datetime import datetime

    return turn.ctx.i18n.datetime(value, turn.locale) if isinstance(value, datetime) else "—"


def short_line(turn: Turn, case: CaseInfo) -> str:
    """One inbox line: ⚠️ when overdue, code, category, status."""
    mark = "⚠️ " if is_overdue(case, turn.clock.now()) else ""
    return turn.t("off.inbox_line", mark=mark, code=case.display_code,
                  category=category_label(turn, case.category), status=status_label(turn, case.status))


def case_button(turn: Turn, case: CaseInfo) -> Button:
    return turn.raw_btn(short_line(turn, case), f"off:case:{case.code}")


async def card_text(turn: Turn, case: CaseInfo) -> str:
    t = turn.t
    lines = [t("off.card_header", code=case.display_code, category=category_label(turn, case.category)),
             t("off.card_status", status=status_label(turn, case.status),
               priority=t(f"off.priority_{case.priority}"))]
    if case.area_name:
        lines.append(t("off.card_area", area=case.area_name))
    if case.anonymous:
        lines.append(t("off.card_anonymous"))
    else:
        citizen = await turn.store.citizens.get(case.citizen_id)
        lines.append(t("off.card_citizen", name=(citizen.display_name if citizen else None) or t("off.no_name")))
    lines.append(t("off.card_created", when=when(turn, case.created_at)))
    if case.assignee_unit:
        lines.append(t("off.card_unit", unit=case.assignee_unit))
    if case.status in OPEN_STATUSES:
        late = is_overdue(case, turn.clock.now())
        if case.status in ("received", "reopened") and case.ack_due_at:
            lines.append(t("off.card_ack_due", when=when(turn, case.ack_due_at)))
        if case.due_at:
            lines.append(t("off.card_due", when=when(turn, case.due_at)))
        if late:
            lines.append(t("off.card_overdue"))
    if case.escalated_at:
        lines.append(t("off.card_escalated", when=when(turn, case.escalated_at)))
    supporters = await turn.store.cases.supporter_count(case.id)
    if supporters:
        lines.append(t("off.card_supporters", count=supporters))
    undelivered = await turn.store.cases.undelivered_notices(case.citizen_id)
    if undelivered:
        lines.append(t("off.card_undelivered", count=undelivered))
    if case.rating:
        lines.append(t("off.card_rating", stars="⭐" * case.rating))
    if case.description:
        lines.append(t("off.card_description", text=case.description[:1500]))
    return "\n".join(lines)


def card_buttons(turn: Turn, who: Actor, case: CaseInfo) -> list[list[Button]]:
    code, v = case.code, case.version
    rows: list[list[Button]] = []
    if who.may("ack") and case.status in ("received", "reopened"):
        rows.append([turn.btn("off.btn_ack", f"off:ack:{code}:{v}")])
    if who.may("status") and case.status in OPEN_STATUSES:
        first = [turn.btn("off.btn_in_progress", f"off:st:{code}:in_progress:{v}")] \
            if case.status != "in_progress" else []
        rows.append([*first, turn.btn("off.btn_resolved", f"off:st:{code}:resolved:{v}")])
    if who.may("assign") and case.status in OPEN_STATUSES:
        rows.append([turn.btn("off.btn_assign", f"off:assign:{code}"),
                     turn.btn("off.btn_reject", f"off:reject:{code}")])
    actions = []
    if who.may("reply") and case.status != "duplicate":
        actions.append(turn.btn("off.btn_reply", f"off:reply:{code}"))
    if who.may("note"):
        actions.append(turn.btn("off.btn_note", f"off:note:{code}"))
    if actions:
        rows.append(actions)
    return rows


def event_line(turn: Turn, event: EventInfo) -> str:
    what_key = f"off.ev_{event.kind}"
    if not turn.ctx.i18n.has(what_key, turn.locale):
        what_key = "off.ev_other"
    what = turn.t(what_key, status=status_label(turn, event.to_status or ""), body=(event.body or "")[:300])
    lock = "🔒 " if not event.public else ""
    return turn.t("off.timeline_line", when=when(turn, event.created_at), what=lock + what)


async def show_case(turn: Turn, who: Actor, case: CaseInfo) -> None:
    """The full card: text + buttons, then one message per photo, the location, the timeline."""
    turn.send(Outbound(await card_text(turn, case), buttons=card_buttons(turn, who, case)))
    photos = [a for a in await turn.store.cases.attachments(case.id) if a.kind == "photo"]
    for index, attachment in enumerate(photos, start=1):
        path = turn.store.media.path_for(attachment.sha256) if attachment.sha256 else None
        if path is None:
            turn.say("off.photo_missing", n=index, total=len(photos))
            continue
        turn.send(Outbound(turn.t("off.photo", n=index, total=len(photos)), image=str(path)))
    if case.lat is not None and case.lon is not None:
        turn.say("off.location", lat=f"{case.lat:.6f}", lon=f"{case.lon:.6f}",
                 url=MAP_URL.format(lat=case.lat, lon=case.lon))
    events = await turn.store.cases.timeline(case.id, include_internal=True)
    if events:
        lines = [turn.t("off.timeline")] + [event_line(turn, e) for e in events[-TIMELINE_LIMIT:]]
        turn.send(Outbound("\n".join(lines)))
