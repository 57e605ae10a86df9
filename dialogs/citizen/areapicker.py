"""Pick a commune: by shared location, by typing a name (with or without diacritics), or by
paging through buttons (province → commune). Used by onboarding and by the report flow.

The caller names a `purpose`; when the citizen has chosen, the handler registered for that
purpose with `@on_picked(...)` continues the caller's dialog.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.messages import Button
from bot.router import Router
from bot.store.views import AreaInfo
from bot.turn import Turn
from dialogs.citizen.common import pairs

router = Router("areapicker")
PickedHandler = Callable[[Turn, AreaInfo | None], Awaitable[None]]
_PICKED: dict[str, PickedHandler] = {}  # filled at import time by the dialogs that use the picker

PAGE = 8
SURE = 0.9  # a typed name this close, and clearly ahead of the next, is taken without asking


def on_picked(purpose: str) -> Callable[[PickedHandler], PickedHandler]:
    def register(handler: PickedHandler) -> PickedHandler:
        _PICKED[purpose] = handler
        return handler

    return register


def _state(turn: Turn) -> dict[str, object]:
    return turn.session.data.setdefault("area", {})  # type: ignore[no-any-return]


async def start(turn: Turn, purpose: str, *, allow_skip: bool = False,
                suggest: AreaInfo | None = None) -> None:
    turn.session.data["area"] = {"purpose": purpose, "allow_skip": allow_skip}
    if suggest is not None:
        await _confirm(turn, suggest)
        return
    await _ask_province(turn, page=0)


async def _finish(turn: Turn, area: AreaInfo | None) -> None:
    state = _state(turn)
    purpose = str(state.get("purpose", ""))
    if area is not None and "lat" in state and "lon" in state:
        turn.extra["picked_latlon"] = (state["lat"], state["lon"])  # the shared location itself
    turn.session.data.pop("area", None)
    await _PICKED[purpose](turn, area)


def _extras(turn: Turn) -> list[Button]:
    extras = [turn.btn("area.send_location", "area:loc")]
    if _state(turn).get("allow_skip"):
        extras.append(turn.btn("area.skip", "area:skip"))
    return extras


async def _ask_province(turn: Turn, page: int, key: str = "area.ask_province") -> None:
    provinces = await turn.store.areas.provinces()
    page = max(0, min(page, (len(provinces) - 1) // PAGE))
    chunk = provinces[page * PAGE:(page + 1) * PAGE]
    buttons = [turn.raw_btn(turn.t("area.province_button", name=a.short_name), f"area:p:{a.id}")
               for a in chunk]
    nav = []
    if page > 0:
        nav.append(turn.btn("area.prev", f"area:pp:{page - 1}"))
    if (page + 1) * PAGE < len(provinces):
        nav.append(turn.btn("area.more", f"area:pp:{page + 1}"))
    rows = [*pairs(buttons), nav, _extras(turn)] if nav else [*pairs(buttons), _extras(turn)]
    turn.ask(key, rows, state="area:province", request_location=True)


async def _ask_commune(turn: Turn, province_id: int, page: int, key: str = "area.ask_commune") -> None:
    province = await turn.store.areas.get(province_id)
    if province is None:
        await _ask_province(turn, 0)
        return
    _state(turn)["province_id"] = province_id
    communes = await turn.store.areas.communes(province_id)
    page = max(0, min(page, (len(communes) - 1) // PAGE))
    chunk = communes[page * PAGE:(page + 1) * PAGE]
    buttons = [turn.raw_btn(turn.t("area.commune_button", name=a.name), f"area:c:{a.id}") for a in chunk]
    nav = []
    if page > 0:
        nav.append(turn.btn("area.prev", f"area:cp:{page - 1}"))
    if (page + 1) * PAGE < len(communes):
        nav.append(turn.btn("area.more", f"area:cp:{page + 1}"))
    nav.append(turn.btn("area.other_province", "area:pp:0"))
    turn.ask(key, [*pairs(buttons), nav, _extras(turn)], state="area:commune",
             request_location=True, province=province.name)


async def _confirm(turn: Turn, area: AreaInfo) -> None:
    turn.ask("area.confirm", [[turn.btn("area.yes", f"area:ok:{area.id}"),
                               turn.btn("area.choose_other", "area:pp:0")]],
             state="area:confirm", name=area.full_name)


async def _offer(turn: Turn, matches: list[tuple[AreaInfo, float]]) -> None:
    buttons = [turn.raw_btn(turn.t("area.commune_button" if a.level == "commune" else "area.province_button",
                                   name=a.full_name if a.level == "commune" else a.short_name),
                            f"area:{'c' if a.level == 'commune' else 'p'}:{a.id}") for a, _ in matches]
    turn.ask("area.did_you_mean", [*[[b] for b in buttons], _extras(turn)])


# --- handlers --------------------------------------------------------------------------


@router.on_payload("area:pp:")
async def province_page(turn: Turn) -> None:
    await _ask_province(turn, int(turn.args[0]) if turn.args and turn.args[0].isdigit() else 0)


@router.on_payload("area:cp:")
async def commune_page(turn: Turn) -> None:
    province_id = _state(turn).get("province_id")
    page = int(turn.args[0]) if turn.args and turn.args[0].isdigit() else 0
    if isinstance(province_id, int):
        await _ask_commune(turn, province_id, page)
    else:
        await _ask_province(turn, 0)


@router.on_payload("area:p:")
async def province_chosen(turn: Turn) -> None:
    if turn.args and turn.args[0].isdigit():
        await _ask_commune(turn, int(turn.args[0]), 0)


@router.on_payload("area:c:")
@router.on_payload("area:ok:")
async def commune_chosen(turn: Turn) -> None:
    area = await turn.store.areas.get(int(turn.args[0])) if turn.args and turn.args[0].isdigit() else None
    if area is None:
        await _ask_province(turn, 0)
        return
    await _finish(turn, area)


@router.on_payload("area:skip")
async def skipped(turn: Turn) -> None:
    await _finish(turn, None)


@router.on_payload("area:loc")
async def ask_location(turn: Turn) -> None:
    turn.ask("area.share_location_hint", [_extras(turn)[1:] or [turn.btn("area.choose_other", "area:pp:0")]],
             request_location=True)


@router.on_state("area:province", "area:commune", "area:confirm")
async def typed_or_located(turn: Turn) -> None:
    loc = turn.inbound.location
    if loc is not None:
        area = await turn.store.areas.nearest(loc.lat, loc.lon)
        if area is None:
            turn.say("area.location_outside")
            await _ask_province(turn, 0)
            return
        _state(turn)["lat"], _state(turn)["lon"] = loc.lat, loc.lon
        await _confirm(turn, area)
        return
    if not turn.text:
        prompt = turn.session.prompt
        turn.say("area.need_name")
        if prompt:
            from bot.messages import Outbound

            turn.send(Outbound.from_dict(prompt))
        return
    province_id = _state(turn).get("province_id") if turn.session.state == "area:commune" else None
    matches = await turn.store.areas.search(
        turn.text, province_id=province_id if isinstance(province_id, int) else None, limit=5)
    if not matches:
        if isinstance(province_id, int):
            await _ask_commune(turn, province_id, 0, key="area.not_found_commune")
        else:
            await _ask_province(turn, 0, key="area.not_found")
        return
    best, score = matches[0]
    clear = len(matches) == 1 or matches[1][1] < score - 0.08
    if score >= SURE and clear:
        if best.level == "commune":
            await _confirm(turn, best)
        else:
            await _ask_commune(turn, best.id, 0)
        return
    await _offer(turn, matches)
