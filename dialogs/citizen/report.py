"""Filing a report: category → description (text, voice or skip) → photos (or skip) → where →
read-back → confirm → case code. Buttons, a photo and a location are enough: typing is optional.

A photo, voice note or location is accepted at every step and kept in the draft, which lives in
the session for 24 h so a report interrupted mid-way can be resumed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot import sla
from bot.errors import MediaRejected
from bot.messages import Media
from bot.router import Router
from bot.store.media import SavedMedia
from bot.store.views import AreaInfo
from bot.turn import Turn
from dialogs.citizen import areapicker
from dialogs.citizen.common import CATEGORIES, category_label, pairs

log = logging.getLogger(__name__)
router = Router("report")
MAX_PHOTOS = 10


def draft(turn: Turn) -> dict[str, Any]:
    return turn.session.data.setdefault("report", {"media": []})  # type: ignore[no-any-return]


async def start(turn: Turn, *, category: str | None = None) -> None:
    if not turn.citizen.has_consent:
        from dialogs.citizen import onboarding

        await onboarding.start(turn, then="report")
        return
    d = draft(turn)
    for item in turn.session.data.pop("pending_media", []):
        d["media"].append(item)
    if category in CATEGORIES:
        d["category"] = category
        await ask_description(turn)
        return
    await ask_category(turn)


async def ask_category(turn: Turn, key: str = "report.ask_category") -> None:
    draft(turn)["step"] = "category"
    buttons = [turn.btn(f"cat.{c}", f"report:cat:{c}") for c in CATEGORIES]
    turn.ask(key, [*pairs(buttons), [turn.btn("common.cancel", "g:cancel")]], state="report:category")


async def ask_description(turn: Turn) -> None:
    draft(turn)["step"] = "desc"
    turn.ask("report.ask_description", [[turn.btn("report.skip", "report:skipdesc")]], state="report:desc")


async def ask_photo(turn: Turn, key: str = "report.ask_photo") -> None:
    draft(turn)["step"] = "photo"
    photos = _count(turn, "photo")
    buttons = [turn.btn("report.photos_done", "report:photosdone")] if photos else [
        turn.btn("report.no_photo", "report:photosdone")]
    turn.ask(key, [buttons], state="report:photo", count=photos)


async def ask_where(turn: Turn) -> None:
    d = draft(turn)
    d["step"] = "where"
    if d.get("area_id"):
        await ask_confirm(turn)
        return
    rows = [[turn.btn("report.send_location", "report:loc")]]
    home = turn.citizen.home_area_id
    if home is not None:
        area = await turn.store.areas.get(home)
        if area is not None:
            rows.append([turn.raw_btn(turn.t("report.at_home", name=area.name), f"report:home:{area.id}")])
    rows.append([turn.btn("report.choose_area", "report:pickarea")])
    turn.ask("report.ask_where", rows, state="report:where", request_location=True)


async def ask_confirm(turn: Turn) -> None:
    d = draft(turn)
    d["step"] = "confirm"
    d.pop("editing", None)
    lines = [turn.t("report.summary_category", category=category_label(turn, d.get("category", "other")))]
    if d.get("description"):
        text = d["description"]
        lines.append(turn.t("report.summary_description", text=text if len(text) <= 300 else text[:300] + "…"))
    if _count(turn, "photo"):
        lines.append(turn.t("report.summary_photos", count=_count(turn, "photo")))
    if _count(turn, "voice") + _count(turn, "audio"):
        lines.append(turn.t("report.summary_voice"))
    if d.get("area_name"):
        lines.append(turn.t("report.summary_area", name=d["area_name"]))
    elif d.get("lat") is not None:
        lines.append(turn.t("report.summary_location"))
    anonymous = turn.citizen.anonymous
    lines.append(turn.t("report.summary_anonymous" if anonymous else "report.summary_named"))
    turn.ask("report.confirm", [[turn.btn("report.submit", "report:submit")],
                                [turn.btn("report.edit", "report:edit"), turn.btn("common.cancel", "g:cancel")]],
             state="report:confirm", summary="\n".join(lines))


async def resume(turn: Turn) -> None:
    """Ask again the question the citizen stopped at (the draft remembers the step)."""
    steps = {"category": ask_category, "desc": ask_description, "photo": ask_photo, "where": ask_where,
             "confirm": ask_confirm}
    await steps.get(str(draft(turn).get("step")), ask_category)(turn)


def _count(turn: Turn, kind: str) -> int:
    return sum(1 for m in draft(turn)["media"] if m.get("kind") == kind)


async def absorb(turn: Turn) -> bool:
    """Keep any photo, voice note or location that came with this message. True if any."""
    d = draft(turn)
    took = False
    for media in turn.inbound.media:
        if media.kind == "photo" and _count(turn, "photo") >= MAX_PHOTOS:
            turn.say("report.too_many_photos", limit=MAX_PHOTOS)
            continue
        item = await _keep(turn, media)
        if item is not None:
            d["media"].append(item)
            took = True
    loc = turn.inbound.location
    if loc is not None:
        d["lat"], d["lon"] = loc.lat, loc.lon
        area = await turn.store.areas.nearest(loc.lat, loc.lon)
        if area is not None:
            d["area_id"], d["area_name"] = area.id, area.full_name
            turn.say("report.location_received", name=area.full_name)
        else:
            turn.say("report.location_received_no_area")
        took = True
    return took


async def _keep(turn: Turn, media: Media) -> dict[str, Any] | None:
    if media.data is None:
        # The channel could not download it: keep a note on the case, never lose the report.
        turn.say("report.media_failed")
        return {"kind": media.kind, "error": media.error or "download failed", "source_ref": media.source_ref}
    try:
        saved = await turn.store.media.save(media)
    except MediaRejected as exc:
        turn.say(f"media.rejected.{exc}", limit_mb=turn.settings.max_media_bytes // (1024 * 1024))
        return None
    if media.kind == "photo":
        turn.say("report.photo_received", count=_count(turn, "photo") + 1)
    else:
        turn.say("report.voice_received")
    return {"kind": saved.kind, "sha256": saved.sha256, "mime": saved.mime, "size": saved.size,
            "path": str(saved.path), "source_ref": saved.source_ref}


# --- entry points -----------------------------------------------------------------------


@router.on_payload("report:start", anytime=True)
async def start_pressed(turn: Turn) -> None:
    turn.session.data.pop("report", None)
    turn.session.state = ""
    await start(turn)


@router.on_payload("report:cat:")
async def category_chosen(turn: Turn) -> None:
    category = turn.args[0] if turn.args else ""
    if category not in CATEGORIES:
        await ask_category(turn)
        return
    d = draft(turn)
    d["category"] = category
    if d.pop("editing", None):
        await ask_confirm(turn)
    elif d.get("description") or _count(turn, "voice"):
        await ask_photo(turn)
    else:
        await ask_description(turn)


@router.on_payload("report:catok:")
async def category_guess_accepted(turn: Turn) -> None:
    await category_chosen(turn)


@router.on_state("report:category")
async def category_typed(turn: Turn) -> None:
    took = await absorb(turn)
    if _add_text(turn):
        guess = await _guess_category(turn, turn.text)
        if guess is not None:
            turn.ask("report.category_guess", [[turn.btn("report.guess_yes", f"report:catok:{guess}"),
                                                turn.btn("report.guess_other", "report:catlist")]],
                     category=category_label(turn, guess))
            return
    await ask_category(turn, "report.ask_category_again" if took or turn.text else "report.ask_category")


@router.on_payload("report:catlist")
async def category_list(turn: Turn) -> None:
    await ask_category(turn)


async def _guess_category(turn: Turn, text: str) -> str | None:
    if turn.ctx.nlu is None:
        return None
    try:
        result = await turn.ctx.nlu.parse(text)
    except Exception:  # the NLU is a helper, never a reason to fail a report
        log.exception("nlu failed while guessing a category")
        return None
    category = result.category
    if category is None or category["name"] not in CATEGORIES:
        return None
    return category["name"] if category["confidence"] >= turn.settings.nlu_fallback_threshold else None


@router.on_state("report:desc")
async def description_given(turn: Turn) -> None:
    took = await absorb(turn)
    _add_text(turn)
    if turn.text or _count(turn, "voice") or _count(turn, "audio"):
        await _continue(turn, ask_photo)
        return
    if took:  # a photo or location instead of words: fine, move on
        await ask_photo(turn)
        return
    await ask_description(turn)


async def _continue(turn: Turn, next_step: Callable[[Turn], Awaitable[None]]) -> None:
    """After a step: back to the read-back when editing one part, else on to `next_step`."""
    if draft(turn).pop("editing", None):
        await ask_confirm(turn)
    else:
        await next_step(turn)


@router.on_payload("report:skipdesc")
async def description_skipped(turn: Turn) -> None:
    await _continue(turn, ask_photo)


@router.on_state("report:photo")
async def photo_given(turn: Turn) -> None:
    took = await absorb(turn)
    if _add_text(turn):
        turn.say("report.text_added")
    if turn.inbound.location is not None:
        await ask_where(turn)
        return
    await ask_photo(turn, "report.ask_more_photos" if took or turn.text else "report.ask_photo")


@router.on_payload("report:photosdone")
async def photos_done(turn: Turn) -> None:
    await _continue(turn, ask_where)


@router.on_payload("report:loc")
async def location_hint(turn: Turn) -> None:
    turn.ask("report.share_location_hint", [[turn.btn("report.choose_area", "report:pickarea")]],
             state="report:where", request_location=True)


@router.on_payload("report:home:")
async def at_home(turn: Turn) -> None:
    area = await turn.store.areas.get(int(turn.args[0])) if turn.args and turn.args[0].isdigit() else None
    if area is None:
        await ask_where(turn)
        return
    await _area_chosen(turn, area)


@router.on_payload("report:pickarea")
async def pick_area(turn: Turn) -> None:
    await areapicker.start(turn, "report")


@areapicker.on_picked("report")
async def _area_chosen(turn: Turn, area: AreaInfo | None) -> None:
    d = draft(turn)
    if area is not None:
        d["area_id"], d["area_name"] = area.id, area.full_name
        latlon = turn.extra.get("picked_latlon")
        if latlon is not None:
            d["lat"], d["lon"] = latlon
    await ask_confirm(turn)


@router.on_state("report:where")
async def where_given(turn: Turn) -> None:
    took = await absorb(turn)
    if draft(turn).get("area_id"):
        await ask_confirm(turn)
        return
    if turn.inbound.location is not None:  # outside every commune we know: pick by name
        await areapicker.start(turn, "report")
        return
    if turn.text:
        await areapicker.start(turn, "report")
        turn.replies.pop()  # the picker's first question is replaced by the search result
        turn.session.state = "area:province"
        await areapicker.typed_or_located(turn)
        return
    if not took:
        turn.say("report.need_where")
    await ask_where(turn)


@router.on_state("report:confirm")
async def confirm_typed(turn: Turn) -> None:
    took = await absorb(turn)
    if _add_text(turn):
        turn.say("report.text_added")
    if not took and not turn.text:
        turn.say("report.please_confirm")
    await ask_confirm(turn)


@router.on_payload("report:edit")
async def edit(turn: Turn) -> None:
    turn.ask("report.edit_what", [[turn.btn("report.edit_category", "report:editpart:category"),
                                   turn.btn("report.edit_description", "report:editpart:desc")],
                                  [turn.btn("report.edit_photos", "report:editpart:photo"),
                                   turn.btn("report.edit_place", "report:editpart:where")]])


@router.on_payload("report:editpart:")
async def edit_part(turn: Turn) -> None:
    d = draft(turn)
    part = turn.args[0] if turn.args else ""
    d["editing"] = True
    if part == "category":
        await ask_category(turn)
    elif part == "desc":
        d["description"] = None
        d["media"] = [m for m in d["media"] if m.get("kind") not in ("voice", "audio")]
        await ask_description(turn)
    elif part == "photo":
        d["media"] = [m for m in d["media"] if m.get("kind") != "photo"]
        await ask_photo(turn)
    else:
        d.pop("area_id", None)
        d.pop("area_name", None)
        d.pop("lat", None)
        d.pop("lon", None)
        d.pop("editing", None)
        await ask_where(turn)


@router.on_payload("report:submit")
async def submit(turn: Turn) -> None:
    d = draft(turn)
    if not d.get("category"):
        await ask_category(turn)
        return
    media: list[SavedMedia | Media] = []
    for item in d["media"]:
        if item.get("sha256"):
            media.append(SavedMedia(sha256=item["sha256"], mime=item["mime"], size=item["size"],
                                    path=Path(item["path"]), kind=item["kind"],
                                    source_ref=item.get("source_ref")))
        else:
            media.append(Media(kind=item["kind"], data=None, error=item.get("error"),
                               source_ref=item.get("source_ref")))
    ack_due, resolve_due = sla.due_times(turn.settings, turn.clock.now(), d["category"])
    case = await turn.store.cases.create(
        turn.citizen.id, category=d["category"], description=d.get("description"),
        area_id=d.get("area_id"), lat=d.get("lat"), lon=d.get("lon"),
        anonymous=turn.citizen.anonymous, channel=turn.inbound.channel, media=media,
        ack_due_at=ack_due, due_at=resolve_due,
    )
    log.info("case filed code=%s channel=%s category=%s", case.code, turn.inbound.channel, case.category)
    turn.session.reset()
    due = case.ack_due_at
    if due is not None:
        turn.say("report.filed", code=case.display_code, due=turn.ctx.i18n.datetime(due, turn.locale))
    else:
        turn.say("report.filed_hours", code=case.display_code,
                 hours=turn.ctx.i18n.number(turn.settings.sla_ack_working_hours, turn.locale))
    turn.ask("report.after_filed", [[turn.btn("report.view_status", f"status:show:{case.code}"),
                                     turn.btn("menu.back", "g:menu")]])


def _add_text(turn: Turn) -> bool:
    """Words typed at any step add to the description (people tell it in pieces). True if any."""
    if not turn.text:
        return False
    d = draft(turn)
    old = d.get("description")
    d["description"] = f"{old}\n{turn.text}" if old else turn.text
    return True

