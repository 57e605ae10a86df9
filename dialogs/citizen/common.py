"""Pieces every citizen dialog shares: categories, status labels, the main menu."""

from __future__ import annotations

from bot.messages import Button
from bot.store.views import CaseInfo
from bot.turn import Turn

CATEGORIES: tuple[str, ...] = (
    "traffic_roads",
    "environment_waste",
    "flooding_drainage",
    "utilities_power_water",
    "public_order",
    "land_construction",
    "health",
    "education",
    "admin_procedures",
    "agriculture_irrigation",
    "other",
)

STATUSES: tuple[str, ...] = (
    "received", "acknowledged", "assigned", "in_progress", "resolved", "closed",
    "rejected", "duplicate", "reopened",
)


def category_label(turn: Turn, category: str) -> str:
    return turn.t(f"cat.{category}") if category in CATEGORIES else category


def status_label(turn: Turn, status: str) -> str:
    return turn.t(f"status.{status}") if status in STATUSES else status


def pairs(buttons: list[Button]) -> list[list[Button]]:
    """Two buttons a row: big enough to tap, short enough to read."""
    return [buttons[i:i + 2] for i in range(0, len(buttons), 2)]


def show_menu(turn: Turn, key: str = "menu.prompt") -> None:
    """The main menu: the one place every dialog returns to."""
    turn.session.reset()
    items = [turn.btn(label, payload) for _, label, payload in turn.menu_items]
    turn.ask(key, pairs(items))


def case_button(turn: Turn, case: CaseInfo) -> Button:
    label = turn.t("status.case_button", code=case.display_code,
                   category=category_label(turn, case.category), status=status_label(turn, case.status))
    return turn.raw_btn(label, f"status:show:{case.code}")
