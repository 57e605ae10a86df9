"""Service discovery: one GeoReport service per feedback category, named from the catalogs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.i18n import Catalogs
from bot.opendata import category_name

# Categories grouped the way a city's service list usually is; unknown categories go to "other".
GROUPS: dict[str, str] = {
    "traffic_roads": "infrastructure",
    "flooding_drainage": "infrastructure",
    "utilities_power_water": "infrastructure",
    "environment_waste": "environment",
    "agriculture_irrigation": "environment",
    "land_construction": "land",
    "public_order": "community",
    "health": "community",
    "education": "community",
    "admin_procedures": "administration",
}


def _optional_text(i18n: Catalogs, locale: str, key: str) -> str:
    return i18n.t(locale, key) if i18n.has(key, locale) or i18n.has(key, "vi") else ""


def service(i18n: Catalogs, locale: str, code: str) -> dict[str, Any]:
    group = GROUPS.get(code, "other")
    return {
        "service_code": code,
        "service_name": category_name(i18n, locale, code),
        "description": _optional_text(i18n, locale, f"dash.cat.{code}.desc"),
        "metadata": False,  # no extra attributes to fill in
        "type": "realtime",
        "keywords": _optional_text(i18n, locale, f"dash.cat.{code}.keywords"),
        "group": _optional_text(i18n, locale, f"dash.group.{group}") or group,
    }


def service_list(i18n: Catalogs, locale: str, categories: Sequence[str]) -> list[dict[str, Any]]:
    return [service(i18n, locale, code) for code in categories]


def definition(code: str) -> dict[str, Any]:
    """The service definition; our services ask for no extra attributes."""
    return {"service_code": code, "attributes": []}
