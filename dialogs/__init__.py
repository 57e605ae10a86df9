"""Conversation flows. `build_router()` gathers every feature's router for the engine."""

from __future__ import annotations

from bot.router import Router


def build_router() -> Router:
    from dialogs import citizen, officials, participation

    root = Router("root")
    root.include(citizen.router)
    root.include(officials.router)
    root.include(participation.router)
    return root
