"""Organisers' consultations: `/consult new` (guided), `/consult list`, `/consult comments ID`
(paged), `/consult close ID`. CSV export and themes are in the CLI (`bot/participation_cli.py`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.errors import InvalidInput
from bot.messages import Button, Outbound
from bot.router import Router
from bot.turn import Turn
from dialogs.participation import targets
from dialogs.participation.common import audit, organiser, parse_deadline, parse_id, part
from dialogs.participation.poll_admin import announce
from dialogs.participation.targets import on_targets, wizard

router = Router("part-consult-admin")
PAGE = 5
MAX_CHOICES = 6


def _cancel(turn: Turn) -> list[Button]:
    return [turn.btn("common.cancel", "g:cancel")]


@router.on_command("consult")
async def consult_command(turn: Turn) -> None:
    sub = turn.args[0].lower() if turn.args else "list"
    target = turn.args[1] if len(turn.args) > 1 else None
    official = await organiser(turn, f"consult.{sub}"[:48], target)
    if official is None:
        return
    turn.args = turn.args[1:]
    if sub == "new":
        turn.session.reset()
        turn.session.data["wiz"] = {"kind": "consult", "options": []}
        turn.ask("part.cn.ask_title", [_cancel(turn)], state="part:cn:title")
    elif sub == "list":
        items = await part(turn).list_consultations(limit=15)
        if not items:
            turn.say("part.cn.none")
            return
        lines = [turn.t("part.cn.list_header")]
        for c in items:
            lines.append(turn.t("part.cn.list_line", id=c.id, title=c.title[:60],
                                count=await part(turn).count_comments(c.id),
                                deadline=turn.ctx.i18n.datetime(c.deadline, turn.locale)))
        turn.send(Outbound("\n".join(lines)))
    elif sub == "comments":
        await _comments(turn, parse_id(turn), 0)
    elif sub == "close":
        cid = parse_id(turn)
        if cid is None or await part(turn).get_consultation(cid) is None:
            turn.say("part.cn.not_found")
            return
        await part(turn).close_consultation(cid)
        await audit(turn, official, "consult.closed", str(cid))
        turn.say("part.cn.closed", id=cid)
    else:
        turn.say("part.cn.usage")


async def _comments(turn: Turn, cid: int | None, offset: int) -> None:
    repo = part(turn)
    cons = await repo.get_consultation(cid) if cid is not None else None
    if cons is None:
        turn.say("part.cn.not_found")
        return
    total = await repo.count_comments(cons.id)
    page = await repo.comments(cons.id, offset=offset, limit=PAGE)
    lines = [turn.t("part.cn.comments_header", title=cons.title, total=total, start=min(offset + 1, total),
                    end=offset + len(page))]
    fmt = turn.ctx.i18n.datetime
    for c in page:
        body = c.text or ""
        if c.choice:
            body = f"[{c.choice}] {body}".strip()
        if c.voice_count:
            body = f"{body} {turn.t('part.cn.voice', n=c.voice_count)}".strip()
        lines.append(turn.t("part.cn.comment_line", n=c.id, when=fmt(c.created_at, turn.locale),
                            area=c.area_name or "—", text=body[:300]))
    rows: list[list[Button]] = []
    if offset + PAGE < total:
        rows.append([turn.btn("part.cn.next", f"part:cm:{cons.id}:{offset + PAGE}")])
    turn.send(Outbound("\n".join(lines)))
    if rows:
        turn.ask("part.cn.more", rows)


@router.on_payload("part:cm:")
async def comments_page(turn: Turn) -> None:
    if await organiser(turn, "consult.comments", turn.args[0] if turn.args else None) is None:
        return
    await _comments(turn, parse_id(turn, 0), parse_id(turn, 1) or 0)


@router.on_state("part:cn:title")
async def title_given(turn: Turn) -> None:
    if not turn.text:
        turn.ask("part.cn.ask_title", [_cancel(turn)], state="part:cn:title")
        return
    wizard(turn)["title"] = turn.text[:200]
    turn.ask("part.cn.ask_summary", [_cancel(turn)], state="part:cn:summary")


@router.on_state("part:cn:summary")
async def summary_given(turn: Turn) -> None:
    if not turn.text:
        turn.ask("part.cn.ask_summary", [_cancel(turn)], state="part:cn:summary")
        return
    wizard(turn)["summary"] = turn.text[:3000]
    turn.ask("part.cn.ask_link", [[turn.btn("part.skip", "part:cn:nolink")], _cancel(turn)], state="part:cn:link")


@router.on_state("part:cn:link")
async def link_given(turn: Turn) -> None:
    if not turn.text.startswith(("http://", "https://")) or " " in turn.text:
        turn.say("part.cn.bad_link")
        turn.ask("part.cn.ask_link", [[turn.btn("part.skip", "part:cn:nolink")], _cancel(turn)],
                 state="part:cn:link")
        return
    wizard(turn)["link"] = turn.text[:512]
    await targets.ask(turn)


@router.on_payload("part:cn:nolink")
async def no_link(turn: Turn) -> None:
    wizard(turn)["link"] = None
    await targets.ask(turn)


@on_targets("consult")
async def _areas_chosen(turn: Turn, codes: list[str]) -> None:
    _ask_deadline(turn)


def _ask_deadline(turn: Turn) -> None:
    turn.ask("part.cn.ask_deadline", [[turn.btn("part.days", "part:cn:days:7", n=7),
                                       turn.btn("part.days", "part:cn:days:14", n=14),
                                       turn.btn("part.days", "part:cn:days:30", n=30)], _cancel(turn)],
             state="part:cn:deadline")


@router.on_payload("part:cn:days:")
async def deadline_days(turn: Turn) -> None:
    await _deadline_chosen(turn, turn.clock.now() + timedelta(days=min(parse_id(turn) or 14, 90)))


@router.on_state("part:cn:deadline")
async def deadline_typed(turn: Turn) -> None:
    when = parse_deadline(turn.text, turn.clock.now(), turn.settings.timezone)
    if when is None:
        turn.say("part.bad_date")
        _ask_deadline(turn)
        return
    await _deadline_chosen(turn, when)


async def _deadline_chosen(turn: Turn, when: datetime) -> None:
    wizard(turn)["deadline"] = when.isoformat()
    turn.ask("part.cn.ask_question", [[turn.btn("part.skip", "part:cn:noq")], _cancel(turn)],
             state="part:cn:question")


@router.on_state("part:cn:question")
async def question_given(turn: Turn) -> None:
    if not turn.text:
        await no_question(turn)
        return
    wizard(turn)["question"] = turn.text[:500]
    _ask_choice(turn)


def _ask_choice(turn: Turn) -> None:
    options = wizard(turn).setdefault("options", [])
    rows = [[turn.btn("part.pn.options_done", "part:cn:optdone")]] if len(options) >= 2 else []
    turn.ask("part.pn.ask_option", [*rows, _cancel(turn)], state="part:cn:opt", n=len(options) + 1,
             max=MAX_CHOICES)


@router.on_state("part:cn:opt")
async def choice_given(turn: Turn) -> None:
    options: list[str] = wizard(turn).setdefault("options", [])
    for line in turn.text.splitlines():
        if line.strip() and len(options) < MAX_CHOICES:
            options.append(line.strip()[:200])
    if len(options) >= MAX_CHOICES:
        await _preview(turn)
        return
    _ask_choice(turn)


@router.on_payload("part:cn:optdone")
async def choices_done(turn: Turn) -> None:
    await _preview(turn)


@router.on_payload("part:cn:noq")
async def no_question(turn: Turn) -> None:
    wizard(turn)["question"] = None
    wizard(turn)["options"] = []
    await _preview(turn)


async def _preview(turn: Turn) -> None:
    wiz = wizard(turn)
    from dialogs.participation.common import area_names

    text = turn.t("part.cn.preview", title=wiz.get("title", ""), summary=wiz.get("summary", ""),
                  names=await area_names(turn, wiz.get("areas", [])),
                  deadline=turn.ctx.i18n.datetime(datetime.fromisoformat(wiz["deadline"]), turn.locale))
    if wiz.get("question"):
        text += "\n" + wiz["question"] + "\n" + "\n".join(f"{i}. {o}" for i, o in
                                                         enumerate(wiz.get("options", []), start=1))
    turn.send(Outbound(text))
    turn.ask("part.cn.confirm", [[turn.btn("part.pn.open", "part:cn:go:open")],
                                 [turn.btn("part.pn.open_announce", "part:cn:go:announce")], _cancel(turn)],
             state="part:cn:confirm")


@router.on_payload("part:cn:go:")
async def go(turn: Turn) -> None:
    wiz = wizard(turn)
    official = await organiser(turn, "consult.create")
    if official is None or wiz.get("kind") != "consult":
        turn.end()
        return
    try:
        cons = await part(turn).create_consultation(
            title=wiz.get("title", ""), summary=wiz.get("summary", ""), link=wiz.get("link"),
            area_codes=wiz.get("areas", []), deadline=datetime.fromisoformat(wiz["deadline"]),
            question=wiz.get("question"), options=wiz.get("options", []) if wiz.get("question") else [],
            created_by=official.id)
    except (InvalidInput, KeyError):
        turn.end()
        turn.say("part.pn.invalid")
        return
    await audit(turn, official, "consult.created", str(cons.id), areas=list(cons.area_codes))
    turn.end()
    turn.say("part.cn.opened", id=cons.id)
    if turn.args and turn.args[0] == "announce":
        await announce(turn, kind="consultation", text=cons.title, area_codes=list(cons.area_codes),
                       consultation_id=cons.id, created_by=official.id)
