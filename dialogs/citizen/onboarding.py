"""First contact: language, consent (never assumed from silence), home commune, anonymity."""

from __future__ import annotations

from bot.router import Router
from bot.store.views import AreaInfo
from bot.turn import Turn
from dialogs.citizen import areapicker
from dialogs.citizen.common import show_menu

router = Router("onboarding")


async def start(turn: Turn, *, then: str = "menu") -> None:
    """Begin onboarding; `then` = "report" continues into filing once done."""
    pending = turn.session.data.get("pending_media")
    turn.session.reset()
    turn.session.data["onb_then"] = then
    if pending:
        turn.session.data["pending_media"] = pending
    turn.say("onb.welcome")
    turn.ask("onb.ask_language", [[turn.btn("lang.vi", "onb:lang:vi"), turn.btn("lang.en", "onb:lang:en")]],
             state="onb:lang")


async def ask_consent(turn: Turn) -> None:
    turn.ask("onb.ask_consent", [[turn.btn("onb.consent_yes", "onb:consent:yes"),
                                  turn.btn("onb.consent_no", "onb:consent:no")]],
             state="onb:consent", version=turn.settings.consent_policy_version)


@router.on_payload("onb:lang:")
async def language_chosen(turn: Turn) -> None:
    locale = turn.args[0] if turn.args and turn.args[0] in ("vi", "en") else "vi"
    turn.citizen = await turn.store.citizens.update(turn.citizen.id, locale=locale)
    turn.locale = locale
    if turn.citizen.has_consent:
        await _ask_anonymity(turn)
        return
    await ask_consent(turn)


@router.on_state("onb:lang", "onb:consent", "onb:anon")
async def needs_a_tap(turn: Turn) -> None:
    """Only a clear choice moves on: silence or other text is never consent."""
    keep = {k: v for k, v in turn.session.data.items() if k in ("onb_then", "pending_media", "report")}
    state = turn.session.state
    turn.say("onb.please_choose")
    if state == "onb:lang":
        turn.ask("onb.ask_language", [[turn.btn("lang.vi", "onb:lang:vi"),
                                       turn.btn("lang.en", "onb:lang:en")]], state=state)
    elif state == "onb:consent":
        await ask_consent(turn)
    else:
        await _ask_anonymity(turn)
    turn.session.data.update(keep)


@router.on_payload("onb:consent:yes")
async def consent_given(turn: Turn) -> None:
    turn.citizen = await turn.store.citizens.record_consent(
        turn.citizen.id, turn.settings.consent_policy_version)
    turn.say("onb.thanks_consent")
    if turn.citizen.home_area_id is None:
        await areapicker.start(turn, "home", allow_skip=True)
    else:
        await _ask_anonymity(turn)


@router.on_payload("onb:consent:no")
async def consent_refused(turn: Turn) -> None:
    turn.say("onb.consent_refused")
    turn.session.data.pop("pending_media", None)
    turn.session.data.pop("report", None)
    show_menu(turn)


@areapicker.on_picked("home")
async def home_picked(turn: Turn, area: AreaInfo | None) -> None:
    if area is not None:
        turn.citizen = await turn.store.citizens.update(turn.citizen.id, home_area_id=area.id)
        turn.say("onb.home_saved", name=area.full_name)
    await _ask_anonymity(turn)


async def _ask_anonymity(turn: Turn) -> None:
    turn.ask("onb.ask_anonymity", [[turn.btn("onb.named", "onb:anon:named"),
                                    turn.btn("onb.anonymous", "onb:anon:anon")]], state="onb:anon")


@router.on_payload("onb:anon:")
async def anonymity_chosen(turn: Turn) -> None:
    anonymous = bool(turn.args) and turn.args[0] == "anon"
    turn.citizen = await turn.store.citizens.update(turn.citizen.id, anonymous=anonymous)
    turn.say("onb.done_anonymous" if anonymous else "onb.done_named")
    then = turn.session.data.get("onb_then")
    if then == "report":
        from dialogs.citizen import report

        await report.start(turn)
        return
    show_menu(turn)
