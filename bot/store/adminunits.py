"""Reads Vietnam's administrative units (2025 reform) from the `vietnamadminunits` package data.

Two things come out: the current units (34 provinces, 3,321 communes/wards, with centroids)
and, for search only, the pre-reform commune names mapped to the commune that absorbed them,
because people keep using the old names ("Bến Nghé" is now part of "Phường Sài Gòn").
Synchronous (sqlite3/json); callers run it in a thread.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

PACKAGE = "vietnamadminunits"


@dataclass(frozen=True, slots=True)
class Unit:
    code: str
    level: str  # province | commune
    kind: str
    name: str
    short_name: str
    parent_code: str | None
    lat: float | None
    lon: float | None


@dataclass(frozen=True, slots=True)
class LegacyName:
    """An old (pre-2025) commune name and the code of the commune that took it over."""

    short_name: str
    district: str
    commune_code: str


def _data_dir() -> Path:
    return Path(str(resources.files(PACKAGE) / "data"))


def _province_kind(name: str) -> str:
    return "Thành phố" if name.startswith("Thành phố ") else "Tỉnh"


def read_units() -> list[Unit]:
    """Provinces first (ordered by code), then communes (ordered by code)."""
    con = sqlite3.connect(f"file:{_data_dir() / 'dataset.db'}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT province, provinceShort, provinceCode, provinceLat, provinceLon,"
            " ward, wardShort, wardType, wardCode, wardLat, wardLon FROM admin_units"
        ).fetchall()
    finally:
        con.close()
    provinces: dict[str, Unit] = {}
    communes: list[Unit] = []
    for p_name, p_short, p_code, p_lat, p_lon, w_name, w_short, w_type, w_code, w_lat, w_lon in rows:
        if p_code not in provinces:
            provinces[p_code] = Unit(
                code=p_code,
                level="province",
                kind=_province_kind(p_name),
                name=p_name,
                short_name=p_short,
                parent_code=None,
                lat=p_lat,
                lon=p_lon,
            )
        communes.append(
            Unit(
                code=w_code,
                level="commune",
                kind=w_type,
                name=w_name,
                short_name=w_short,
                parent_code=p_code,
                lat=w_lat,
                lon=w_lon,
            )
        )
    return sorted(provinces.values(), key=lambda u: u.code) + sorted(communes, key=lambda u: u.code)


@functools.cache
def read_province_aliases() -> dict[str, tuple[str, ...]]:
    """Province code → short aliases from the package ("01" → ("hn",)). Cached: package data is fixed."""
    con = sqlite3.connect(f"file:{_data_dir() / 'dataset.db'}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT DISTINCT provinceCode, provinceAlias FROM admin_units").fetchall()
    finally:
        con.close()
    return {code: tuple(json.loads(alias)) for code, alias in rows if alias}


@functools.cache
def read_legacy_names() -> tuple[LegacyName, ...]:
    """Pre-reform commune names, each pointing at the current commune that absorbed it (cached)."""
    data_dir = _data_dir()
    with (data_dir / "converter_2025.json").open(encoding="utf-8") as fh:
        converter = json.load(fh)
    con = sqlite3.connect(f"file:{data_dir / 'dataset.db'}?mode=ro", uri=True)
    try:
        current = {
            (pk, wk): code
            for pk, wk, code in con.execute("SELECT provinceKey, wardKey, wardCode FROM admin_units")
        }
        old = {
            f"{pk}_{dk}_{wk}": (short, district)
            for pk, dk, wk, short, district in con.execute(
                "SELECT provinceKey, districtKey, wardKey, wardShort, district FROM admin_units_legacy"
            )
        }
    finally:
        con.close()
    targets: dict[str, str] = {}
    for new_province, wards in converter["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for new_ward, old_keys in wards.items():
            code = current.get((new_province, new_ward))
            if code:
                targets.update(dict.fromkeys(old_keys, code))
    for new_province, divided in converter["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old_key, options in divided.items():
            default = next((o["newWardKey"] for o in options if o.get("isDefaultNewWard")), None)
            code = current.get((new_province, default)) if default else None
            if code and old_key not in targets:
                targets[old_key] = code
    names = []
    for old_key, code in targets.items():
        if old_key in old:
            short, district = old[old_key]
            names.append(LegacyName(short_name=short, district=district, commune_code=code))
    return tuple(names)
