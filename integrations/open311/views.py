"""Our cases as GeoReport service requests: status mapped to open/closed, public data only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.context import AppContext
from bot.opendata import category_name, public_location, redact
from bot.store import publicstats
from bot.store.caseflow import OPEN_STATUSES
from bot.store.views import CaseInfo


def open311_status(status: str) -> str:
    """"open" while someone still has to act; resolved, closed, rejected and merged are "closed"."""
    return "open" if status in OPEN_STATUSES else "closed"


def statuses_for(wanted: str) -> tuple[str, ...]:
    """Our lifecycle statuses behind an Open311 status ("open" or "closed")."""
    from bot.store.cases import STATUSES

    return tuple(s for s in STATUSES if open311_status(s) == wanted)


def _when(value: datetime | None, tz: ZoneInfo) -> str | None:
    return value.astimezone(tz).isoformat(timespec="seconds") if value is not None else None


async def request_rows(ctx: AppContext, cases: Sequence[CaseInfo], *, locale: str,
                       media_base: str) -> list[dict[str, Any]]:
    """One row per case, with the spec's field names, in the spec's order."""
    ids = [c.id for c in cases]
    repo = ctx.store.cases
    notes = await publicstats.latest_notes(repo, ids)
    photos = await publicstats.first_photos(repo, ids)
    merged = await publicstats.merged_codes(repo, [c.id for c in cases if c.status == "duplicate"])
    tz = ZoneInfo(ctx.settings.timezone)
    rows = []
    for case in cases:
        area = await ctx.store.areas.get(case.area_id) if case.area_id is not None else None
        lat, lon = public_location(case.lat, case.lon, case.anonymous)
        note = notes.get(case.id)
        if case.id in merged:
            note = ctx.i18n.t(locale, "dash.open311.merged", code=merged[case.id])
        sha = None if case.anonymous else photos.get(case.id)
        rows.append({
            "service_request_id": case.code,
            "status": open311_status(case.status),
            "status_notes": redact(note),
            "service_name": category_name(ctx.i18n, locale, case.category),
            "service_code": case.category,
            "description": redact(case.description),
            "agency_responsible": case.assignee_unit,
            "service_notice": None,
            "requested_datetime": _when(case.created_at, tz),
            "updated_datetime": _when(case.updated_at, tz),
            "expected_datetime": _when(case.due_at, tz),
            "address": area.full_name if area is not None else None,
            "address_id": None,
            "zipcode": None,
            "lat": lat,
            "long": lon,
            "media_url": f"{media_base}/media/{sha}" if sha else None,
        })
    return rows
