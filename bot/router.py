"""Which dialog step handles a message: by button payload, command, state, event or intent.

Handlers register with decorators on a `Router`; feature packages each export one router and
the composition root includes them. Resolution order lives in `bot/engine.py`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.turn import Turn

Handler = Callable[[Turn], Awaitable[None]]
ExpiredHandler = Callable[[Turn, str], Awaitable[None]]


@dataclass(frozen=True)
class PayloadRoute:
    prefix: str
    handler: Handler
    anytime: bool  # valid even when not among the last prompt's buttons (menus, broadcasts)


class Router:
    def __init__(self, name: str = "") -> None:
        self.name = name
        self.payloads: list[PayloadRoute] = []
        self.commands: dict[str, Handler] = {}
        self.states: dict[str, Handler] = {}
        self.state_prefixes: dict[str, Handler] = {}
        self.events: dict[str, Handler] = {}
        self.intents: dict[str, Handler] = {}
        self.idle: Handler | None = None
        self.expired: ExpiredHandler | None = None
        self.menu_items: list[tuple[int, str, str]] = []  # (order, label key, payload)

    # --- registration ----------------------------------------------------------------
    def on_payload(self, prefix: str, *, anytime: bool = False) -> Callable[[Handler], Handler]:
        """`prefix` like "report:cat:"; the rest of the payload, split on ':', becomes turn.args."""

        def register(handler: Handler) -> Handler:
            self.payloads.append(PayloadRoute(prefix, handler, anytime))
            return handler

        return register

    def on_command(self, *names: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            for name in names:
                self.commands[name.lstrip("/").lower()] = handler
            return handler

        return register

    def on_state(self, *states: str) -> Callable[[Handler], Handler]:
        """Exact state names, or a prefix ending in '*' ("poll_new:*")."""

        def register(handler: Handler) -> Handler:
            for state in states:
                if state.endswith("*"):
                    self.state_prefixes[state[:-1]] = handler
                else:
                    self.states[state] = handler
            return handler

        return register

    def on_event(self, *events: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            for event in events:
                self.events[event] = handler
            return handler

        return register

    def on_intent(self, *intents: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            for intent in intents:
                self.intents[intent] = handler
            return handler

        return register

    def on_idle(self, handler: Handler) -> Handler:
        """Free input when no dialog is in progress."""
        self.idle = handler
        return handler

    def on_expired(self, handler: ExpiredHandler) -> ExpiredHandler:
        """Called when a user returns after the session timed out mid-dialog."""
        self.expired = handler
        return handler

    def menu_item(self, order: int, label_key: str, payload: str) -> None:
        """Offer a feature on the citizen main menu (lower order = higher up)."""
        self.menu_items.append((order, label_key, payload))

    def include(self, other: Router) -> None:
        self.menu_items = sorted(self.menu_items + other.menu_items)
        self.payloads.extend(other.payloads)
        self.commands.update(other.commands)
        self.states.update(other.states)
        self.state_prefixes.update(other.state_prefixes)
        self.events.update(other.events)
        self.intents.update(other.intents)
        self.idle = other.idle or self.idle
        self.expired = other.expired or self.expired

    # --- lookup ----------------------------------------------------------------------
    def find_payload(self, payload: str) -> tuple[PayloadRoute, list[str]] | None:
        best: PayloadRoute | None = None
        for route in self.payloads:
            if (payload == route.prefix.rstrip(":") or payload.startswith(route.prefix)) and (
                best is None or len(route.prefix) > len(best.prefix)
            ):
                best = route
        if best is None:
            return None
        rest = payload[len(best.prefix):] if payload.startswith(best.prefix) else ""
        return best, [part for part in rest.split(":") if part] if rest else []

    def find_state(self, state: str) -> Handler | None:
        if state in self.states:
            return self.states[state]
        matches = [p for p in self.state_prefixes if state.startswith(p)]
        return self.state_prefixes[max(matches, key=len)] if matches else None
