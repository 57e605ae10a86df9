"""The engine: one inbound message in, a list of outbound replies out.

Order of work (fixed): de-duplicate → take the conversation lock → load the session →
resolve the citizen and locale → route → save the session → return replies. A failure
releases the de-duplication claim and leaves the session untouched, so a platform retry
is handled afresh and nothing is lost or done twice.
"""

from __future__ import annotations

import logging

from bot import textinput
from bot.context import AppContext
from bot.messages import Inbound, Outbound
from bot.router import Router
from bot.sessions import Session
from bot.turn import Turn

log = logging.getLogger(__name__)


class Engine:
    def __init__(self, ctx: AppContext, router: Router) -> None:
        self.ctx = ctx
        self.router = router

    async def handle(self, inbound: Inbound) -> list[Outbound]:
        settings = self.ctx.settings
        dedupe_key = f"{inbound.channel}:{inbound.message_id}" if inbound.message_id else None
        if dedupe_key and not await self.ctx.dedupe.claim(dedupe_key, settings.dedupe_ttl_hours * 3600):
            log.info("duplicate message dropped channel=%s id=%s", inbound.channel, inbound.message_id)
            return []
        try:
            async with self.ctx.locks.lock(inbound.conversation_key):
                return await self._handle_locked(inbound)
        except BaseException:
            if dedupe_key:
                await self.ctx.dedupe.release(dedupe_key)
            raise

    def error_reply(self, locale: str | None = None) -> Outbound:
        """What a channel shows when handling failed (it logs the error itself)."""
        return Outbound(self.ctx.i18n.t(locale, "engine.error"))

    async def _handle_locked(self, inbound: Inbound) -> list[Outbound]:
        ctx = self.ctx
        key = inbound.conversation_key
        session = await ctx.sessions.load(key) or Session()
        citizen = await ctx.store.citizens.get_or_create(
            inbound.channel, inbound.user_id, display_name=inbound.display_name,
            locale=None,
        )
        locale = ctx.i18n.normalize_locale(session.locale or citizen.locale or inbound.locale_hint)
        session.citizen_id = citizen.id
        text, truncated = textinput.clean(inbound.text, ctx.settings.max_text_chars)
        turn = Turn(ctx, inbound, session, citizen, locale, text=text, payload=inbound.payload,
                    menu_items=self.router.menu_items, intents=self.router.intents)
        if truncated:
            turn.say("engine.truncated", limit=ctx.settings.max_text_chars)

        now = ctx.clock.now().timestamp()
        expired_state = ""
        if session.state and session.updated_at and (
            now - session.updated_at > ctx.settings.session_timeout_minutes * 60
        ):
            expired_state = session.state
            session.state = ""
            session.buttons = []
            session.prompt = None

        await self._route(turn, expired_state)

        self._remember_prompt(turn)
        session.updated_at = now
        session.locale = turn.locale
        await ctx.sessions.save(key, session, ctx.settings.draft_ttl_hours * 3600)
        return turn.replies

    async def _route(self, turn: Turn, expired_state: str) -> None:
        router, inbound, session = self.router, turn.inbound, turn.session

        if inbound.event:
            handler = router.events.get(inbound.event)
            if handler is not None:
                await handler(turn)
            return

        if expired_state and router.expired is not None and not turn.payload:
            await router.expired(turn, expired_state)
            if any(reply.buttons for reply in turn.replies):
                return  # it asked something (resume the draft?): that question ends this turn

        if turn.payload is None and turn.text and (label := self._button_for_label(turn)) is not None:
            turn.payload, turn.text = label, ""

        if turn.payload is None and turn.text:
            number = textinput.choice_number(turn.text)
            if number is not None and session.buttons:
                if 1 <= number <= len(session.buttons):
                    turn.payload = session.buttons[number - 1]
                else:
                    await self._ask_again(turn, "engine.choice_out_of_range", count=len(session.buttons))
                    return
            elif (escape := textinput.escape_payload(turn.text)) is not None and (
                router.find_payload(escape) is not None
            ):
                turn.payload = escape

        if turn.payload is not None:
            await self._route_payload(turn)
            return

        if turn.text.startswith("/"):
            name, _, rest = turn.text[1:].partition(" ")
            handler = router.commands.get(name.split("@")[0].lower())
            if handler is None:
                turn.say("engine.unknown_command", command=name[:32])
                return
            turn.args = rest.split()
            await handler(turn)
            return

        if session.state:
            state_handler = router.find_state(session.state)
            if state_handler is not None:
                await state_handler(turn)
                return
            log.warning("no handler for state %s; resetting", session.state)
            session.reset()

        if not (turn.text or inbound.media or inbound.location or inbound.contact):
            await self._ask_again(turn, "engine.empty")
            return
        if router.idle is not None:
            await router.idle(turn)

    @staticmethod
    def _button_for_label(turn: Turn) -> str | None:
        """A button's label sent back as text (reply keyboards, Zalo query buttons, or typed) is that button."""
        prompt = turn.session.prompt
        if not prompt or len(turn.text) > 200:
            return None
        typed = textinput.fold(turn.text)
        for row in prompt.get("buttons", []):
            for button in row:
                label = str(button.get("label", ""))
                if label == turn.text or (typed and textinput.fold(label) == typed):
                    return str(button.get("payload"))
        return None

    async def _route_payload(self, turn: Turn) -> None:
        payload = turn.payload or ""
        found = self.router.find_payload(payload)
        if found is None or (not found[0].anytime and payload not in turn.session.buttons):
            log.info("stale or unknown payload %r", payload[:64])
            await self._ask_again(turn, "engine.stale_button")
            return
        route, args = found
        turn.args = args
        await route.handler(turn)

    async def _ask_again(self, turn: Turn, key: str, **params: object) -> None:
        """Explain, then repeat the last prompt (or fall back to the menu)."""
        turn.say(key, **params)
        prompt = turn.session.prompt
        if prompt is not None:
            turn.send(Outbound.from_dict(prompt))
            return
        menu = self.router.find_payload("g:menu")
        if menu is not None:
            turn.payload = "g:menu"
            await menu[0].handler(turn)

    @staticmethod
    def _remember_prompt(turn: Turn) -> None:
        """The last reply with buttons defines what `1`, `2`… mean next time."""
        for message in reversed(turn.replies):
            if message.buttons:
                turn.session.buttons = [b.payload for b in message.flat_buttons()]
                turn.session.prompt = message.to_dict()
                return
        if not turn.session.state:
            turn.session.buttons = []
            turn.session.prompt = None
