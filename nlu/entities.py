"""Entity extraction: case codes, phone numbers, areas, numbers and dates, with offsets into the original text.

All matching runs on `normalize.aligned()` forms (lowercase / diacritic-free, same length as the NFC
text), and every span is mapped back through `Aligned.span`, so `text[start:end]` is exactly what
the citizen typed. Overlaps are resolved by priority (case code, phone, date, area, number), longest
first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from bot import casecode
from nlu.areas import AreaIndex
from nlu.normalize import Aligned, aligned
from nlu.types import Entity

EXTRACTOR = "TiengDanEntityExtractor"
_PRIORITY = {"case_code": 0, "phone": 1, "date": 2, "area": 3, "number": 4}

_PHONE = re.compile(r"(?<![\d+])(\+84|84|0)((?:[ .\-]?\d){8,10})(?![\d])")
_MOBILE_PREFIXES = frozenset("35789")
_DIGITS = re.compile(r"(?<![\d.,])\d{1,3}(?:[.,]\d{3})+(?![\d])|(?<![\d.,/\-])\d+(?![\d/\-])")

# ---- numbers ---------------------------------------------------------------------------------
_UNITS = {
    "không": 0, "một": 1, "mốt": 1, "hai": 2, "ba": 3, "bốn": 4, "tư": 4, "năm": 5, "lăm": 5,
    "nhăm": 5, "sáu": 6, "bảy": 7, "bẩy": 7, "tám": 8, "chín": 9,
}  # fmt: skip
_UNITS_ASCII = {
    "khong": 0, "mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5, "lam": 5, "sau": 6,
    "bay": 7, "tam": 8, "chin": 9,
}  # fmt: skip
_TENS = {"mười": "ten", "mươi": "tens", "muoi": "tens"}
_SCALES = {"trăm": 100, "nghìn": 1000, "ngàn": 1000, "triệu": 1_000_000,
           "tram": 100, "nghin": 1000, "ngan": 1000, "trieu": 1_000_000}  # fmt: skip
_FILLERS = {"linh", "lẻ", "le"}
_NUMBER_CUES = ("so", "phuong an", "lua chon", "chon", "muc", "y", "cau", "option")
_WORD = re.compile(r"\w+")

# ---- dates -----------------------------------------------------------------------------------
_RELATIVE_DAYS = (
    (r"hom nay|bua nay|ngay hom nay", 0),
    (r"hom qua|bua qua|ngay hom qua", -1),
    (r"hom kia|bua kia", -2),
    (r"ngay mai|sang mai|chieu mai|toi mai", 1),
    (r"ngay kia|ngay mot", 2),
)
_WEEKDAYS = {"hai": 0, "2": 0, "ba": 1, "3": 1, "tu": 2, "4": 2, "nam": 3, "5": 3, "sau": 4, "6": 4,
             "bay": 5, "7": 5}  # fmt: skip
_WEEKDAY = re.compile(r"\b(?:thu ?(hai|ba|tu|nam|sau|bay|[2-7])|t([2-7])|(chu nhat|cn))\b")
_ORDINAL_CUES = re.compile(r"(?:so|phuong an|lua chon|cai|y|muc|cau|lan|nguoi|ngay|tuan|thang|hang)\s*$")
_NUMERIC_DATE = re.compile(
    r"(?<![\d/.\-])(?:(\d{4})-(\d{1,2})-(\d{1,2})|(\d{1,2})[/.\-](\d{1,2})(?:[/.\-](\d{4}|\d{2}))?)(?![\d/.\-])"
)
_WORDY_DATE = re.compile(r"\bngay (\d{1,2}) thang (\d{1,2})(?: nam (\d{4}))?\b")


def mask_phone(phone: str) -> str:
    """`0912345678` → `091****678`: enough to recognise in logs, not enough to call."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) <= 6:
        return "*" * max(len(digits) - 2, 0) + digits[-2:]
    return digits[:3] + "*" * (len(digits) - 6) + digits[-3:]


def normalize_phone(raw: str) -> str | None:
    """National format (a leading 0) for a valid VN mobile (10 digits) or landline (`02…`, 11 digits)."""
    digits = re.sub(r"\D", "", raw)
    if digits.startswith("84") and raw.lstrip().startswith(("+84", "84")):
        digits = "0" + digits[2:]
    if len(digits) == 10 and digits[0] == "0" and digits[1] in _MOBILE_PREFIXES:
        return digits
    if len(digits) == 11 and digits.startswith("02"):
        return digits
    return None


def words_to_number(words: list[str]) -> int | None:
    """Vietnamese number words → int: `hai mươi lăm` → 25, `một trăm linh năm` → 105."""
    total, group = 0, 0
    pending: int | None = None
    seen = False
    for w in words:
        if w in _UNITS or w in _UNITS_ASCII:
            if pending is not None:
                group += pending
            pending = _UNITS.get(w, _UNITS_ASCII.get(w))
        elif _TENS.get(w) == "ten":
            group += 10 + (pending or 0)
            pending = None
        elif _TENS.get(w) == "tens":
            group += (1 if pending is None else pending) * 10
            pending = None
        elif w in _SCALES and _SCALES[w] == 100:
            group += (1 if pending is None else pending) * 100
            pending = None
        elif w in _SCALES:
            total += (group + (pending or 0) or 1) * _SCALES[w]
            group, pending = 0, None
        elif w in _FILLERS:
            continue
        else:
            return None
        seen = True
    return total + group + (pending or 0) if seen else None


class EntityExtractor:
    """Extracts every supported entity from a message; `today` is injected for relative dates."""

    def __init__(self, areas: AreaIndex, today: Callable[[], date]) -> None:
        self._areas = areas
        self._today = today

    def extract(self, text: str) -> list[Entity]:
        a = aligned(text)
        found: list[Entity] = []
        found += self._case_codes(a)
        found += self._phones(a)
        found += self._dates(a)
        found += self._area_entities(a)
        found += self._numbers(a)
        return _resolve_overlaps(found)

    # -- one method per entity type ------------------------------------------------------------
    def _case_codes(self, a: Aligned) -> list[Entity]:
        out = []
        for m in casecode.CODE_PATTERN.finditer(a.ascii):
            code = m.group(1) + m.group(2)
            if casecode.is_valid(code):
                out.append(_entity(a, "case_code", m.start(), m.end(), code, 1.0))
        return out

    def _phones(self, a: Aligned) -> list[Entity]:
        out = []
        for m in _PHONE.finditer(a.ascii):
            start, end = m.start(), m.end()
            if start > 0 and a.ascii[start - 1] == "+":
                start -= 1
            value = normalize_phone(a.ascii[start:end])
            if value is not None:
                out.append(_entity(a, "phone", start, end, value, 0.99))
        return out

    def _dates(self, a: Aligned) -> list[Entity]:
        today = self._today()
        s = a.ascii
        out = []
        for pattern, delta in _RELATIVE_DAYS:
            for m in re.finditer(rf"\b(?:{pattern})\b", s):
                out.append(_entity(a, "date", m.start(), m.end(), (today + timedelta(days=delta)).isoformat(), 0.95))
        if s.strip(" .!?") == "mai":  # a bare "mai" answers "when?"; inside a sentence it may be a name
            start = s.index("mai")
            out.append(_entity(a, "date", start, start + 3, (today + timedelta(days=1)).isoformat(), 0.9))
        monday = today - timedelta(days=today.weekday())
        for m in _WEEKDAY.finditer(s):
            if _ORDINAL_CUES.search(s[: m.start()]):
                continue  # "phương án thứ hai" is an ordinal, not Monday
            if m.group(3):
                weekday = 6
            else:
                weekday = _WEEKDAYS[m.group(1) or m.group(2)]
            out.append(_entity(a, "date", m.start(), m.end(), (monday + timedelta(days=weekday)).isoformat(), 0.85))
        for m in _NUMERIC_DATE.finditer(s):
            if m.group(1):
                year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
            else:
                day, month = int(m.group(4)), int(m.group(5))
                year = _year(m.group(6), today)
            value = _safe_date(year, month, day)
            if value is not None:
                out.append(_entity(a, "date", m.start(), m.end(), value.isoformat(), 0.95))
        for m in _WORDY_DATE.finditer(s):
            year = int(m.group(3)) if m.group(3) else today.year
            value = _safe_date(year, int(m.group(2)), int(m.group(1)))
            if value is not None:
                out.append(_entity(a, "date", m.start(), m.end(), value.isoformat(), 0.95))
        return out

    def _area_entities(self, a: Aligned) -> list[Entity]:
        out = []
        for m in self._areas.find(a):
            area = m.area
            extra: dict[str, Any] = {
                "code": area.code,
                "kind": area.kind,
                "unit_type": area.unit_type,
                "province": area.province,
                "province_code": area.province_code,
                "lat": area.lat,
                "lon": area.lon,
                "candidates": len(m.candidates),
            }
            ent = _entity(a, "area", m.start, m.end, area.name, m.confidence)
            ent["extra"] = extra
            out.append(ent)
        return out

    def _numbers(self, a: Aligned) -> list[Entity]:
        out = []
        for m in _DIGITS.finditer(a.ascii):
            value = int(re.sub(r"\D", "", m.group(0)))
            out.append(_entity(a, "number", m.start(), m.end(), value, 0.99))
        accented = a.lower != a.ascii
        source = a.lower if accented else a.ascii
        tokens = list(_WORD.finditer(source))
        i = 0
        while i < len(tokens):
            j = i
            while j < len(tokens) and _is_number_word(tokens[j].group(0), accented):
                j += 1
            if j == i:
                i += 1
                continue
            words = [t.group(0) for t in tokens[i:j]]
            start, end = tokens[i].start(), tokens[j - 1].end()
            number = words_to_number(words)
            if number is not None and self._plausible_number(a, words, start, end, accented, j, tokens):
                out.append(_entity(a, "number", start, end, number, 0.9 if accented else 0.7))
            i = j
        return out

    @staticmethod
    def _plausible_number(
        a: Aligned, words: list[str], start: int, end: int, accented: bool, j: int, tokens: list[re.Match[str]]
    ) -> bool:
        """Skip lone `không` (a "no"), `năm 2025` (year), and ambiguous ascii words without a cue."""
        if all(w in ("không", "khong") for w in words):
            return False
        if words[-1] in ("năm", "nam") and j < len(tokens) and tokens[j].group(0).isdigit():
            return False
        if accented:
            return True
        whole = a.ascii.strip(" .!?") == a.ascii[start:end]
        cue = a.ascii[:start].rstrip().endswith(_NUMBER_CUES)
        return whole or cue


# What a masked entity reads as for the classifiers (numbers stay: "phương án 2" is meaningful).
_MASKS = {"case_code": "mã", "phone": "số điện thoại", "area": "khu vực", "date": "ngày"}


def mask_entities(text: str, entities: list[Entity]) -> str:
    """Replace entity spans by a neutral word, so names and digits do not sway the classifiers."""
    out = []
    pos = 0
    for ent in sorted(entities, key=lambda e: e["start"]):
        mask = _MASKS.get(ent["entity"])
        if mask is None or ent["start"] < pos:
            continue
        out.append(text[pos : ent["start"]])
        out.append(f" {mask} ")
        pos = ent["end"]
    out.append(text[pos:])
    return "".join(out)


def _is_number_word(word: str, accented: bool) -> bool:
    if accented:
        return word in _UNITS or word in _TENS or word in _SCALES or word in _FILLERS
    return word in _UNITS_ASCII or word in _TENS or word in _SCALES or word in ("linh", "le")


def _year(raw: str | None, today: date) -> int:
    if raw is None:
        return today.year
    year = int(raw)
    return year + 2000 if year < 100 else year


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _entity(a: Aligned, name: str, start: int, end: int, value: Any, confidence: float) -> Entity:
    o_start, o_end = a.span(start, end)
    return {
        "entity": name,
        "start": o_start,
        "end": o_end,
        "value": value,
        "confidence": confidence,
        "confidence_entity": confidence,
        "extractor": EXTRACTOR,
    }


def _resolve_overlaps(found: list[Entity]) -> list[Entity]:
    """Keep the highest-priority, then longest, entity wherever spans overlap; sort by position."""
    ranked = sorted(found, key=lambda e: (_PRIORITY[e["entity"]], -(e["end"] - e["start"]), e["start"]))
    kept: list[Entity] = []
    for ent in ranked:
        if all(ent["end"] <= k["start"] or ent["start"] >= k["end"] for k in kept):
            kept.append(ent)
    return sorted(kept, key=lambda e: e["start"])
