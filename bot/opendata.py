"""Public, PII-redacted case rows: one definition shared by `tiengdan cases export`, the open-data
files and Open311, so what leaves the system is decided in one place.

A public row never carries citizen ids, names, phones or chat ids; phone numbers and e-mail
addresses typed into a description are masked; anonymous reports keep only a ~100 m location.
The encoders turn rows into CSV/JSON/GeoJSON text chunk by chunk, so exports can be streamed.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

PUBLIC_FIELDS = ("code", "status", "category", "priority", "area_code", "area", "province", "lat", "lon",
                 "description", "anonymous", "source_channel", "created_at", "updated_at",
                 "acknowledged_at", "resolved_at", "closed_at", "due_at", "rating")
_PHONE = re.compile(r"(?<!\d)(?:\+?84|0)(?:[\s.\-]?\d){8,10}(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
REDACTED = "***"
COARSE_DIGITS = 3  # 0.001° ≈ 100 m: the street, not the house


class PublicCase(Protocol):
    """What a public row reads from a case (a `CaseInfo` or an ORM `Case`)."""

    @property
    def code(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def category(self) -> str: ...

    @property
    def priority(self) -> str: ...

    @property
    def description(self) -> str | None: ...

    @property
    def lat(self) -> float | None: ...

    @property
    def lon(self) -> float | None: ...

    @property
    def anonymous(self) -> bool: ...

    @property
    def source_channel(self) -> str: ...

    @property
    def created_at(self) -> datetime: ...

    @property
    def updated_at(self) -> datetime: ...

    @property
    def acknowledged_at(self) -> datetime | None: ...

    @property
    def resolved_at(self) -> datetime | None: ...

    @property
    def closed_at(self) -> datetime | None: ...

    @property
    def due_at(self) -> datetime | None: ...

    @property
    def rating(self) -> int | None: ...



def redact(text: str | None) -> str | None:
    """Phone numbers and e-mail addresses typed into a description are masked."""
    if not text:
        return text
    return _EMAIL.sub(REDACTED, _PHONE.sub(REDACTED, text))


def public_location(lat: float | None, lon: float | None, anonymous: bool) -> tuple[float | None, float | None]:
    """The location as published: rounded to ~100 m for anonymous reports."""
    if anonymous and lat is not None and lon is not None:
        return round(lat, COARSE_DIGITS), round(lon, COARSE_DIGITS)
    return lat, lon


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def public_row(case: PublicCase, *, area_code: str | None, area: str | None,
               province: str | None) -> dict[str, Any]:
    """The case as anyone may see it, keyed by `PUBLIC_FIELDS` (in that order)."""
    anonymous = bool(case.anonymous)
    lat, lon = public_location(case.lat, case.lon, anonymous)
    return {
        "code": case.code,
        "status": case.status,
        "category": case.category,
        "priority": case.priority,
        "area_code": area_code,
        "area": area,
        "province": province,
        "lat": lat,
        "lon": lon,
        "description": redact(case.description),
        "anonymous": anonymous,
        "source_channel": case.source_channel,
        "created_at": iso(case.created_at),
        "updated_at": iso(case.updated_at),
        "acknowledged_at": iso(case.acknowledged_at),
        "resolved_at": iso(case.resolved_at),
        "closed_at": iso(case.closed_at),
        "due_at": iso(case.due_at),
        "rating": case.rating,
    }


# --- encoders: each returns text chunks, so a caller can write them as they come --------------


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def csv_header(fields: Iterable[str] = PUBLIC_FIELDS) -> str:
    buf = io.StringIO()
    csv.writer(buf).writerow(list(fields))
    return buf.getvalue()


def csv_rows(rows: Iterable[dict[str, Any]], fields: Iterable[str] = PUBLIC_FIELDS) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(fields), extrasaction="ignore")
    writer.writerows(rows)
    return buf.getvalue()


def json_item(row: dict[str, Any], first: bool) -> str:
    """One element of a JSON array written as `[` item `,` item … `]`."""
    return ("" if first else ",\n") + _dumps(row)


def geojson_feature(row: dict[str, Any]) -> dict[str, Any]:
    """A Feature; the geometry is a Point only where the case has a location."""
    geometry = None
    if row.get("lat") is not None and row.get("lon") is not None:
        geometry = {"type": "Point", "coordinates": [row["lon"], row["lat"]]}
    props = {k: v for k, v in row.items() if k not in ("lat", "lon")}
    return {"type": "Feature", "id": row["code"], "geometry": geometry, "properties": props}


GEOJSON_HEAD = '{"type": "FeatureCollection", "features": [\n'
GEOJSON_TAIL = "\n]}\n"


# --- labels for public pages and APIs ------------------------------------------------------------


class Texts(Protocol):
    """The bits of `bot.i18n.Catalogs` public labels need."""

    def t(self, locale: str | None, key: str, /, **params: Any) -> str: ...

    def has(self, key: str, locale: str) -> bool: ...


_LEADING_SYMBOLS = re.compile(r"^[^\w(]+", re.UNICODE)


def category_name(texts: Texts, locale: str, category: str) -> str:
    """A plain category name (no emoji): `dash.cat.<code>`, else the chat label, else the code."""
    for key in (f"dash.cat.{category}", f"cat.{category}"):
        if texts.has(key, locale) or texts.has(key, "vi"):
            return _LEADING_SYMBOLS.sub("", texts.t(locale, key)).strip() or category
    return category


def status_name(texts: Texts, locale: str, status: str) -> str:
    key = f"dash.status.{status}"
    return texts.t(locale, key) if texts.has(key, locale) or texts.has(key, "vi") else status
