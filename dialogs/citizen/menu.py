"""The main menu, the escapes that work at any step (cancel, help, menu, language, a person),
and free input outside any dialog (routed by intent when the NLU is confident)."""

from __future__ import annotations

import logging

from bot.router import Router
from bot.turn import Turn
from dialogs.citizen import onboarding, report, status
from dialogs.citizen.common import show_menu

log = logging.getLogger(__name__)
router = Router("menu")

router.menu_item(10, "menu.report", "report:start")
router.menu_item(20, "menu.my_cases", "status:mine")
router.menu_item(30, "menu.lookup", "status:lookup")
router.menu_item(80, "menu.help", "g:help")
router.menu_item(85, "menu.human", "g:human")
router.menu_item(90, "menu.language", "g:lang")


@router.on_payload("g:menu", anytime=True)
async def menu(turn: Turn) -> None:
    if not turn.citizen.has_consent and not turn.session.data.get("onb_seen"):
        turn.session.data["onb_seen"] = True
        await onboarding.start(turn)
        return
    show_menu(turn)


@router.on_payload("g:cancel", anytime=True)
async def cancel(turn: Turn) -> None:
    busy = bool(turn.session.state)
    turn.session.data.pop("report", None)
    show_menu(turn, "menu.cancelled" if busy else "menu.prompt")


@router.on_payload("g:help", anytime=True)
async def help_(turn: Turn) -> None:
    keep_state = turn.session.state
    turn.say("help.text")
    if keep_state and turn.session.prompt:
        from bot.messages import Outbound

        turn.say("help.continue")
        turn.send(Outbound.from_dict(turn.session.prompt))
        return
    show_menu(turn)


@router.on_payload("g:lang", anytime=True)
async def choose_language(turn: Turn) -> None:
    turn.ask("lang.ask", [[turn.btn("lang.vi", "lang:vi"), turn.btn("lang.en", "lang:en")]])


@router.on_payload("lang:", anytime=True)
async def language_set(turn: Turn) -> None:
    locale = turn.args[0] if turn.args and turn.args[0] in ("vi", "en") else "vi"
    turn.citizen = await turn.store.citizens.update(turn.citizen.id, locale=locale)
    turn.locale = locale
    turn.say("lang.changed")
    show_menu(turn)


@router.on_payload("g:human", anytime=True)
async def human(turn: Turn) -> None:
    if not turn.citizen.has_consent:
        await onboarding.start(turn)
        return
    turn.session.reset()
    turn.ask("human.ask", [[turn.btn("common.cancel", "g:cancel")]], state="human:message")


@router.on_state("human:message")
async def human_message(turn: Turn) -> None:
    if not (turn.text or turn.inbound.media):
        turn.ask("human.ask", [[turn.btn("common.cancel", "g:cancel")]], state="human:message")
        return
    turn.session.data["report"] = {"media": [], "category": "other", "description": turn.text or None}
    await report.absorb(turn)
    # A message for a person is kept like a report, so an official sees it in the inbox and answers.
    turn.session.state = "report:confirm"
    await report.submit(turn)


@router.on_event("follow")
async def followed(turn: Turn) -> None:
    if turn.citizen.has_consent:
        show_menu(turn, "menu.welcome_back")
    else:
        await onboarding.start(turn)


@router.on_event("sticker")
async def sticker(turn: Turn) -> None:
    turn.say("menu.sticker")
    if not turn.session.state:
        show_menu(turn)


@router.on_expired
async def expired(turn: Turn, old_state: str) -> None:
    if old_state.startswith(("report:", "area:")) and turn.session.data.get("report"):
        turn.ask("menu.resume_draft", [[turn.btn("menu.resume", "report:resume"),
                                        turn.btn("menu.discard", "g:cancel")]])
        return
    turn.session.data.pop("report", None)
    turn.say("menu.expired")


@router.on_payload("report:resume")
async def resume(turn: Turn) -> None:
    await report.resume(turn)


@router.on_idle
async def idle(turn: Turn) -> None:
    """Input outside any dialog: media starts a report; a code shows its case; else by intent."""
    inbound = turn.inbound
    if inbound.media or inbound.location:
        if not turn.citizen.has_consent:
            turn.session.data["pending_media"] = []
            await onboarding.start(turn, then="report")
            turn.session.data["report"] = {"media": []}
            await report.absorb(turn)
            return
        turn.session.data["report"] = {"media": []}
        await report.absorb(turn)
        await report.start(turn)
        return
    if turn.text and await status.show_for_text(turn):
        return
    if not turn.citizen.has_consent and not turn.session.data.get("onb_seen"):
        turn.session.data["onb_seen"] = True
        await onboarding.start(turn)
        return
    intent, _ = await _intent(turn)
    handler = turn.intents.get(intent) if intent else None
    if handler is not None:
        await handler(turn)
        return
    show_menu(turn, "menu.not_understood")


async def _intent(turn: Turn) -> tuple[str | None, float]:
    nlu = turn.ctx.nlu
    if nlu is None or not turn.text:
        return None, 0.0
    try:
        result = await nlu.parse(turn.text)
    except Exception:  # a broken NLU degrades to buttons, never to an error
        log.exception("nlu parse failed")
        return None, 0.0
    turn.extra["nlu"] = result
    confidence = float(result.intent["confidence"])
    if confidence < turn.settings.nlu_fallback_threshold:
        return None, confidence
    return result.intent["name"], confidence


@router.on_intent("greet")
async def greet(turn: Turn) -> None:
    show_menu(turn, "menu.hello")


@router.on_intent("thank")
async def thank(turn: Turn) -> None:
    show_menu(turn, "menu.you_are_welcome")


@router.on_intent("goodbye")
async def goodbye(turn: Turn) -> None:
    turn.session.reset()
    turn.say("menu.goodbye")


@router.on_intent("help")
async def help_intent(turn: Turn) -> None:
    await help_(turn)


@router.on_intent("file_feedback")
async def file_feedback(turn: Turn) -> None:
    result = turn.extra.get("nlu")
    guess = result.category if result is not None else None
    category = guess["name"] if guess else None
    confidence = float(guess["confidence"]) if guess else 0.0
    turn.session.data["report"] = {"media": [], "description": turn.text}
    if category and category != "other" and confidence >= turn.settings.nlu_fallback_threshold:
        if not turn.citizen.has_consent:
            await onboarding.start(turn, then="report")
            turn.session.data["report"] = {"media": [], "description": turn.text}
            return
        from dialogs.citizen.common import category_label

        turn.ask("report.category_guess", [[turn.btn("report.guess_yes", f"report:catok:{category}"),
                                            turn.btn("report.guess_other", "report:catlist")]],
                 state="report:category", category=category_label(turn, category))
        return
    await report.start(turn)


@router.on_intent("check_status")
async def check_status(turn: Turn) -> None:
    await status.my_cases(turn)


@router.on_intent("change_language")
async def change_language(turn: Turn) -> None:
    await choose_language(turn)


@router.on_intent("human_agent")
async def human_intent(turn: Turn) -> None:
    await human(turn)


@router.on_intent("cancel", "deny")
async def cancel_intent(turn: Turn) -> None:
    show_menu(turn)
