"""Administrative areas: loading, listing, fuzzy search by name and nearest commune by location.

Areas do not change while the service runs, so each `AreaRepo` reads them once into an
in-memory index (per instance, not global) and answers lists, search and `nearest` from it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.store.adminunits import Unit, read_legacy_names, read_province_aliases, read_units
from bot.store.base import Repo, is_unique_violation
from bot.store.models import Area
from bot.store.textkey import ascii_key
from bot.store.views import AreaInfo

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

# Words people put before a name ("xã", "phường", "thị trấn", "tỉnh", "thành phố", "tp.", "p.", "x.")
# and the level each one suggests.
_PREFIXES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("thanh", "pho"), "province"),
    (("thi", "tran"), "commune"),
    (("thi", "xa"), "commune"),
    (("dac", "khu"), "commune"),
    (("tinh",), "province"),
    (("tp",), "province"),
    (("phuong",), "commune"),
    (("xa",), "commune"),
    (("p",), "commune"),
    (("x",), "commune"),
    (("tt",), "commune"),
)
_OTHER_LEVEL_WEIGHT = 0.95  # "tỉnh Thanh Hóa" prefers the province over "xã Thạnh Hóa"
# Everyday names beyond the package's own aliases.
_EXTRA_PROVINCE_ALIASES = {"79": ("tphcm", "sai gon", "saigon", "sg"), "01": ("tphn",), "48": ("tpdn",)}
_LEGACY_WEIGHT = 0.92  # an old name matches a little less than a current one
_EARTH_KM = 6371.0
_BATCH = 500


def strip_prefixes(tokens: list[str]) -> list[str]:
    """Drop leading kind words ("phuong", "thanh pho", "tp"…) but never the whole name."""
    return _strip(tokens)[0]


def _strip(tokens: list[str]) -> tuple[list[str], str | None]:
    """The tokens without leading kind words, and the level the first such word suggests."""
    hint: str | None = None
    changed = True
    while changed:
        changed = False
        for prefix, level in _PREFIXES:
            n = len(prefix)
            if len(tokens) > n and tuple(tokens[:n]) == prefix:
                tokens = tokens[n:]
                hint = hint or level
                changed = True
    return tokens, hint


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_KM * math.asin(math.sqrt(a))


@dataclass
class _Index:
    by_id: dict[int, AreaInfo]
    by_code: dict[str, AreaInfo]
    provinces: list[AreaInfo]
    communes: dict[int, list[AreaInfo]]
    province_keys: dict[str, int] = field(default_factory=dict)  # "hcm" → province id
    # search choices: keys, and for each the area id and a weight
    keys: list[str] = field(default_factory=list)
    targets: list[tuple[int, float]] = field(default_factory=list)


def _sort_key(area: AreaInfo) -> tuple[str, str]:
    return (area.search_key, area.name)


class AreaRepo(Repo):
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        super().__init__(sessionmaker, clock)
        self._index: _Index | None = None
        self._lock = asyncio.Lock()

    # --- loading ---------------------------------------------------------------------------

    async def load_from_package(self, progress: Progress | None = None) -> int:
        """Insert or update the 34 provinces and 3,321 communes; idempotent (keyed by code).

        Returns how many areas were created or changed (0 when already up to date).
        `progress(done, total)` is called as rows are processed (for a CLI progress bar).
        """
        units = await asyncio.to_thread(read_units)
        try:
            changed = await self._upsert(units, progress)
        except IntegrityError as exc:  # another process loaded at the same moment: converge
            if not is_unique_violation(exc):
                raise
            changed = await self._upsert(units, progress)
        self._index = None
        log.info("areas loaded: %d units, %d created or changed", len(units), changed)
        return changed

    async def _upsert(self, units: list[Unit], progress: Progress | None) -> int:
        total, done, changed = len(units), 0, 0
        async with self.session() as s:
            existing = {a.code: a for a in await s.scalars(select(Area))}
            for level in ("province", "commune"):
                for unit in (u for u in units if u.level == level):
                    parent = existing.get(unit.parent_code) if unit.parent_code else None
                    values = {
                        "level": unit.level,
                        "kind": unit.kind,
                        "name": unit.name,
                        "search_key": ascii_key(unit.short_name),
                        "parent_id": parent.id if parent else None,
                        "lat": unit.lat,
                        "lon": unit.lon,
                    }
                    row = existing.get(unit.code)
                    if row is None:
                        row = Area(code=unit.code, **values)
                        s.add(row)
                        existing[unit.code] = row
                        changed += 1
                    elif any(getattr(row, k) != v for k, v in values.items()):
                        for k, v in values.items():
                            setattr(row, k, v)
                        changed += 1
                    done += 1
                    if done % _BATCH == 0:
                        await s.flush()
                        if progress:
                            progress(done, total)
                await s.flush()  # provinces get their ids before communes point at them
        if progress:
            progress(total, total)
        return changed

    # --- the in-memory index -----------------------------------------------------------------

    async def _idx(self) -> _Index:
        if self._index is not None:
            return self._index
        async with self._lock:
            if self._index is None:
                self._index = await self._build_index()
        return self._index

    async def _build_index(self) -> _Index:
        async with self.read() as s:
            rows = list(await s.scalars(select(Area)))
        names = {r.id: r.name for r in rows}
        infos = [
            AreaInfo(
                id=r.id,
                code=r.code,
                level=r.level,
                kind=r.kind,
                name=r.name,
                search_key=r.search_key,
                parent_id=r.parent_id,
                parent_name=names.get(r.parent_id) if r.parent_id else None,
                lat=r.lat,
                lon=r.lon,
            )
            for r in rows
        ]
        provinces = sorted((a for a in infos if a.level == "province"), key=_sort_key)
        communes: dict[int, list[AreaInfo]] = {}
        for a in infos:
            if a.parent_id is not None:
                communes.setdefault(a.parent_id, []).append(a)
        for lst in communes.values():
            lst.sort(key=_sort_key)
        index = _Index(
            by_id={a.id: a for a in infos},
            by_code={a.code: a for a in infos},
            provinces=provinces,
            communes=communes,
        )
        await asyncio.to_thread(self._add_search_keys, index, infos)
        return index

    @staticmethod
    def _add_search_keys(index: _Index, infos: list[AreaInfo]) -> None:
        aliases = read_province_aliases()
        for p in index.provinces:
            keys = {p.search_key, p.search_key.replace(" ", "")}
            keys.update(aliases.get(p.code, ()))
            keys.update(_EXTRA_PROVINCE_ALIASES.get(p.code, ()))
            for k in keys:
                index.province_keys[k] = p.id
                if k != p.search_key:
                    index.keys.append(k)
                    index.targets.append((p.id, 1.0))
        for a in infos:
            index.keys.append(a.search_key)
            index.targets.append((a.id, 1.0))
        for legacy in read_legacy_names():
            key = ascii_key(legacy.short_name)
            target = index.by_code.get(legacy.commune_code)
            if target is None or key.isdigit() or key == target.search_key:
                continue
            index.keys.append(key)
            index.targets.append((target.id, _LEGACY_WEIGHT))

    # --- reads -------------------------------------------------------------------------------

    async def provinces(self) -> list[AreaInfo]:
        """All provinces, sorted by name without diacritics."""
        return list((await self._idx()).provinces)

    async def communes(self, province_id: int) -> list[AreaInfo]:
        """The communes/wards of a province, sorted by name without diacritics."""
        return list((await self._idx()).communes.get(province_id, []))

    async def get(self, area_id: int) -> AreaInfo | None:
        return (await self._idx()).by_id.get(area_id)

    async def by_code(self, code: str) -> AreaInfo | None:
        return (await self._idx()).by_code.get(code)

    async def descendants_ids(self, area_id: int) -> set[int]:
        """The area itself plus, for a province, all its communes (for "cases in this area")."""
        index = await self._idx()
        if area_id not in index.by_id:
            return set()
        return {area_id} | {c.id for c in index.communes.get(area_id, [])}

    async def count(self, *, level: str | None = None) -> int:
        async with self.read() as s:
            query = select(func.count()).select_from(Area)
            if level is not None:
                query = query.where(Area.level == level)
            return int(await s.scalar(query) or 0)

    async def search(
        self,
        text: str,
        *,
        province_id: int | None = None,
        level: str | None = None,
        limit: int = 5,
        min_score: float = 0.6,
    ) -> list[tuple[AreaInfo, float]]:
        """Areas whose name looks like `text`, best first, with a score in 0..1.

        Diacritics, case and kind words ("phường", "xã", "tp."…) are ignored; a trailing
        province ("ben nghe hcm", "Vỹ Dạ, Huế") narrows the communes searched; pre-2025
        commune names lead to the commune that absorbed them.
        """
        index = await self._idx()
        query, hinted = self._split_province(index, text, level)
        level_hint = _strip(ascii_key(text.split(",")[0]).split())[1]
        if not query:
            return []
        scope = province_id if province_id is not None else hinted
        allowed: set[int] | None = None
        if scope is not None:
            allowed = {c.id for c in index.communes.get(scope, [])}
            if level != "commune" and province_id is None and hinted is None:
                allowed.add(scope)
        best: dict[int, float] = {}
        matches = process.extract(
            query, index.keys, scorer=fuzz.WRatio, limit=None, score_cutoff=min_score * 100 * 0.9
        )
        for _key, score, pos in matches:
            area_id, weight = index.targets[pos]
            area = index.by_id[area_id]
            if level is not None and area.level != level:
                continue
            if allowed is not None and area_id not in allowed:
                continue
            value = score * weight / 100
            if level is None and level_hint is not None and area.level != level_hint:
                value *= _OTHER_LEVEL_WEIGHT
            if value >= min_score and value > best.get(area_id, 0.0):
                best[area_id] = value
        typed = unicodedata.normalize("NFC", text.lower())

        def rank(item: tuple[int, float]) -> tuple[float, bool, int, int]:
            area = index.by_id[item[0]]
            # equal scores: the name spelled exactly as typed, with its diacritics, comes first
            spelled = unicodedata.normalize("NFC", area.short_name.lower()) in typed
            return (-item[1], not spelled, len(area.name), area.id)

        ranked = sorted(best.items(), key=rank)
        return [(index.by_id[area_id], round(score, 4)) for area_id, score in ranked[:limit]]

    @staticmethod
    def _split_province(index: _Index, text: str, level: str | None) -> tuple[str, int | None]:
        """("ben nghe", id of HCM) for "phường Bến Nghé, TP.HCM"; (query, None) without a province."""
        parts = [strip_prefixes(ascii_key(p).split()) for p in text.split(",")]
        parts = [p for p in parts if p]
        if not parts:
            return "", None
        if len(parts) > 1:
            for part in parts[1:]:
                pid = index.province_keys.get(" ".join(part)) or index.province_keys.get("".join(part))
                if pid is not None:
                    return " ".join(parts[0]), pid
            return " ".join(parts[0]), None
        tokens = parts[0]
        if level != "province":
            for n in range(min(4, len(tokens) - 1), 0, -1):
                tail = strip_prefixes(tokens[-n:])
                pid = index.province_keys.get(" ".join(tail)) or index.province_keys.get("".join(tail))
                if pid is not None:
                    head = strip_prefixes(tokens[:-n])
                    return " ".join(head), pid
        return " ".join(tokens), None

    async def nearest(self, lat: float, lon: float, *, max_km: float = 60.0) -> AreaInfo | None:
        """The commune whose centroid is closest to (lat, lon); None when farther than `max_km`."""
        index = await self._idx()
        best: tuple[float, AreaInfo] | None = None
        for communes in index.communes.values():
            for area in communes:
                if area.lat is None or area.lon is None:
                    continue
                # cheap reject before the trigonometry
                if best is not None and abs(area.lat - lat) * 111.0 > best[0]:
                    continue
                d = _haversine_km(lat, lon, area.lat, area.lon)
                if best is None or d < best[0]:
                    best = (d, area)
        if best is None or best[0] > max_km:
            return None
        return best[1]
