"""What citizens and officials are told when a case changes, queued in the change's transaction.

The hooks here plug into `CaseRepo` changes (`bot.store.caseflow.ChangeHook`): they render the
notice in each recipient's language at the moment of the change and queue it with
`add_delivery`, keyed by the event id so a notice can never be queued twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Catalogs
from bot.messages import Button, Outbound
from bot.outbox.enqueue import add_delivery
from bot.store.caseflow import OPEN_STATUSES, CaseChange, ChangeHook
from bot.store.models import Citizen
from bot.store.officials import OfficialInfo
from bot.store.views import CaseInfo

CITIZEN_KIND = "notification"
OFFICIAL_KIND = "official_notice"


def current_due(case: CaseInfo) -> datetime | None:
    """The deadline the citizen is waiting on: acknowledgement first, then resolution."""
    if case.status in ("received", "reopened"):
        return case.ack_due_at or case.due_at
    return case.due_at if case.status in OPEN_STATUSES else None


def _label(i18n: Catalogs, locale: str, prefix: str, value: str) -> str:
    key = f"{prefix}.{value}"
    return i18n.t(locale, key) if i18n.has(key, locale) or i18n.has(key, "vi") else value


def citizen_notice(i18n: Catalogs, locale: str, change: CaseChange, *, unit: str | None = None) -> list[Outbound]:
    """The message for one follower of the case, or [] when this change tells them nothing."""
    case, t = change.case, partial(i18n.t, locale)
    code, body = case.display_code, change.event.body or ""
    view = Button(t("notify.btn_view"), f"status:show:{case.code}")
    buttons: list[list[Button]] = [[view]]
    if change.action == "ack":
        text = t("notify.acknowledged", code=code)
    elif change.action == "assign":
        text = t("notify.assigned", code=code, unit=case.assignee_unit or "")
    elif change.action == "status" and case.status == "resolved":
        text = t("notify.resolved", code=code)
        if body:
            text += "\n" + t("notify.note", note=body)
        text += "\n" + t("notify.ask_fixed")
        buttons = [[Button(t("notify.btn_fixed"), f"fb:fixed:{case.code}"),
                    Button(t("notify.btn_not_fixed"), f"fb:notfixed:{case.code}")]]
    elif change.action == "auto_close":
        text = t("notify.auto_closed", code=code, days=change_days(change))
    elif change.action == "status" and case.status == "rejected":
        text = t("notify.rejected", code=code, reason=body)
    elif change.action == "status":
        text = t("notify.status", code=code, status=_label(i18n, locale, "status", case.status))
        if body:
            text += "\n" + t("notify.note", note=body)
    elif change.action == "reply":
        text = t("notify.reply", code=code, unit=unit or "", text=body)
    elif change.action == "merge" and change.into is not None:
        text = t("notify.merged", code=code, into=change.into.display_code)
        buttons = [[Button(t("notify.btn_view"), f"status:show:{change.into.code}")]]
        due = current_due(change.into)
        if due is not None:
            text += "\n" + t("notify.due", when=i18n.datetime(due, locale))
        return [Outbound(text, buttons=buttons)]
    else:
        return []
    due = current_due(case)
    if due is not None:
        text += "\n" + t("notify.due", when=i18n.datetime(due, locale))
    return [Outbound(text, buttons=buttons)]


def change_days(change: CaseChange) -> int:
    """Whole days between resolving and this change (for the auto-close notice)."""
    resolved = change.case.resolved_at
    return max(1, (change.at - resolved).days) if resolved is not None else 1


def citizen_hook(i18n: Catalogs, *, unit: str | None = None) -> ChangeHook:
    """Tell every follower of the case (owner, co-signers) about the change."""

    async def hook(s: AsyncSession, change: CaseChange) -> None:
        if not change.citizen_ids:
            return
        rows = await s.execute(select(Citizen.id, Citizen.locale).where(Citizen.id.in_(change.citizen_ids)))
        locales = {cid: loc for cid, loc in rows}
        for citizen_id in change.citizen_ids:
            locale = locales.get(citizen_id, i18n.default_locale)
            messages = citizen_notice(i18n, locale, change, unit=unit)
            if messages:
                add_delivery(s, kind=CITIZEN_KIND, now=change.at, citizen_id=citizen_id, messages=messages,
                             dedupe_key=f"ev:{change.event.id}:c:{citizen_id}")

    return hook


def official_notice(i18n: Catalogs, official: OfficialInfo, change: CaseChange) -> list[Outbound]:
    locale, case = official.locale, change.case
    t = partial(i18n.t, locale)
    params = {
        "code": case.display_code,
        "area": case.area_name or "—",
        "category": _label(i18n, locale, "cat", case.category),
        "unit": case.assignee_unit or "—",
    }
    if change.action == "escalate":
        due = current_due(case)
        text = t("notify.off_escalated", due=i18n.datetime(due, locale) if due else "—", **params)
    elif change.action == "feedback":
        text = t("notify.off_reopened", **params)
    elif change.action == "assign":
        text = t("notify.off_assigned", **params)
    else:
        text = t("notify.off_changed", status=_label(i18n, locale, "status", case.status), **params)
    return [Outbound(text, buttons=[[Button(t("notify.btn_open_case"), f"off:case:{case.code}")]])]


def officials_hook(i18n: Catalogs, officials: Sequence[OfficialInfo]) -> ChangeHook:
    """Tell these officials (the assignee unit, the parent area) about the change."""

    async def hook(s: AsyncSession, change: CaseChange) -> None:
        for official in officials:
            if change.official_id == official.id:
                continue  # never notify someone of their own action
            add_delivery(s, kind=OFFICIAL_KIND, now=change.at, official_id=official.id,
                         channel=official.channel, channel_user_id=official.channel_user_id,
                         messages=official_notice(i18n, official, change),
                         dedupe_key=f"ev:{change.event.id}:o:{official.id}")

    return hook


def digest_message(i18n: Catalogs, official: OfficialInfo, *, open_count: int, overdue_count: int,
                   overdue: Sequence[CaseInfo]) -> list[Outbound]:
    """The morning digest: how many open and overdue, and the most urgent cases as buttons."""
    locale = official.locale
    text = i18n.t(locale, "notify.digest", open=open_count, overdue=overdue_count)
    rows = [[Button(i18n.t(locale, "notify.digest_case", code=c.display_code,
                           category=_label(i18n, locale, "cat", c.category)), f"off:case:{c.code}")]
            for c in overdue]
    rows.append([Button(i18n.t(locale, "notify.btn_inbox"), "off:inbox:0")])
    return [Outbound(text, buttons=rows)]
