"""One handled message: what a dialog step sees and the replies it builds.

Dialogs never see SQL, HTTP or a channel; they read `turn.text`/`turn.payload`/media, call the
store through `turn.store`, and add replies with `say`/`ask`. Replies are return values.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bot.messages import Button, Inbound, Outbound
from bot.sessions import Session

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.config import Settings
    from bot.context import AppContext
    from bot.store import Store
    from bot.store.views import CitizenInfo


class Turn:
    def __init__(self, ctx: AppContext, inbound: Inbound, session: Session, citizen: CitizenInfo,
                 locale: str, *, text: str = "", payload: str | None = None,
                 menu_items: Sequence[tuple[int, str, str]] = (),
                 intents: Mapping[str, Callable[[Turn], Awaitable[None]]] | None = None) -> None:
        self.ctx = ctx
        self.inbound = inbound
        self.session = session
        self.citizen = citizen
        self.locale = locale
        self.text = text
        self.payload = payload
        self.args: list[str] = []  # payload tail after the matched prefix, or command arguments
        self.replies: list[Outbound] = []
        self.menu_items = list(menu_items)  # (order, label key, payload) for the main menu
        self.intents = intents or {}  # intent name → handler, for free text outside dialogs
        self.extra: dict[str, Any] = {}  # per-turn scratch shared between middlewares and handlers

    # --- dependencies ----------------------------------------------------------------
    @property
    def store(self) -> Store:
        return self.ctx.store

    @property
    def clock(self) -> Clock:
        return self.ctx.clock

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    # --- text ------------------------------------------------------------------------
    def t(self, key: str, /, **params: Any) -> str:
        return self.ctx.i18n.t(self.locale, key, **params)

    def btn(self, key: str, payload: str, /, **params: Any) -> Button:
        """A button whose label comes from the catalog; payloads stay ASCII (≤ 64 bytes)."""
        if len(payload.encode()) > 64 or not payload.isascii():
            raise ValueError(f"button payload must be ASCII ≤ 64 bytes: {payload!r}")
        return Button(self.t(key, **params), payload)

    def raw_btn(self, label: str, payload: str) -> Button:
        """A button whose label is data (an area name, a poll option), not catalog text."""
        if len(payload.encode()) > 64 or not payload.isascii():
            raise ValueError(f"button payload must be ASCII ≤ 64 bytes: {payload!r}")
        return Button(label, payload)

    # --- replies ---------------------------------------------------------------------
    def send(self, message: Outbound) -> Outbound:
        self.replies.append(message)
        return message

    def say(self, key: str, /, **params: Any) -> Outbound:
        return self.send(Outbound(self.t(key, **params)))

    def ask(self, key: str, buttons: Sequence[Button] | Sequence[Sequence[Button]] = (), /, *,
            state: str | None = None, request_location: bool = False, request_contact: bool = False,
            image: str | None = None, **params: Any) -> Outbound:
        """A prompt: the question, its buttons (a flat list = one per row), and the next state."""
        rows: list[list[Button]] = []
        for item in buttons:
            rows.append([item] if isinstance(item, Button) else list(item))
        message = self.send(Outbound(self.t(key, **params), buttons=rows, image=image,
                                     request_location=request_location,
                                     request_contact=request_contact))
        if state is not None:
            self.session.state = state
        return message

    def goto(self, state: str) -> None:
        self.session.state = state

    def end(self) -> None:
        """Leave the current dialog (the menu is the next natural stop)."""
        self.session.reset()
