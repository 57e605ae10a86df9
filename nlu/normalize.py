"""Text normalisation for Vietnamese chat: one canonical spelling before any model sees it.

People type Vietnamese with composed or decomposed Unicode, with old (`hoà`) or new (`hòa`) tone
placement, without diacritics at all, in chat shorthand (`ko`, `dc`, `j`) and with stretched
letters (`đườnggggg`). `normalize()` folds all of these so that the classifier and the entity
extractors see one form. Two kinds of output exist:

* `Normalized.folded` / `.ascii`: word-level forms for classifiers (shorthand expanded; the length
  changes, so offsets are lost);
* `aligned()`: a char-for-char form whose index `i` maps back to the original text through
  `Aligned.origin[i]`, used by the entity extractors so entity offsets point into the original.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Combining tone marks (grave, acute, hook above, tilde, dot below).
_TONES = frozenset("\u0300\u0301\u0309\u0303\u0323")
_VOWELS = frozenset("aăâeêioôơuưy")

# Shorthand → full word(s). Keys are lowercase tokens; values keep diacritics.
SHORTHAND: dict[str, str] = {
    # không
    "ko": "không",
    "k": "không",
    "kh": "không",
    "kg": "không",
    "khg": "không",
    "hok": "không",
    "hông": "không",
    "hổng": "không",
    "khum": "không",
    "kô": "không",
    "hk": "không",
    "khôg": "không",
    "khog": "không",
    "kok": "không",
    "ko0": "không",
    # được
    "dc": "được",
    "đc": "được",
    "dk": "được",
    "đk": "được",
    "dx": "được",
    "đx": "được",
    # gì / vậy / rồi / à
    "j": "gì",
    "gi": "gì",
    "z": "vậy",
    "v": "vậy",
    "zậy": "vậy",
    "dzậy": "vậy",
    "dị": "vậy",
    "zị": "vậy",
    "r": "rồi",
    "rùi": "rồi",
    "rùa": "rồi",
    "gòi": "rồi",
    "oy": "rồi",
    "ròi": "rồi",
    "ak": "à",
    "ah": "à",
    # questions
    "ntn": "như thế nào",
    "bn": "bao nhiêu",
    "bh": "bao giờ",
    "bjo": "bao giờ",
    "bgio": "bao giờ",
    # people
    "ck": "chồng",
    "vk": "vợ",
    "mn": "mọi người",
    "mng": "mọi người",
    "ng": "người",
    "ngta": "người ta",
    "mik": "mình",
    "mk": "mình",
    "mh": "mình",
    "ad": "admin",
    "e": "em",
    # misc chat words
    "ms": "mới",
    "cx": "cũng",
    "cg": "cũng",
    "vs": "với",
    "trc": "trước",
    "ns": "nói",
    "lm": "làm",
    "kq": "kết quả",
    "hum": "hôm",
    "hnay": "hôm nay",
    "hqua": "hôm qua",
    "nhìu": "nhiều",
    "wa": "quá",
    "qá": "quá",
    "bít": "biết",
    "bik": "biết",
    "bit": "biết",
    "bjt": "biết",
    "thik": "thích",
    "iu": "yêu",
    "h": "giờ",
    "nx": "nữa",
    "nha": "nhé",
    "nhen": "nhé",
    "nghen": "nhé",
    "nhá": "nhé",
    "hen": "nhé",
    "đag": "đang",
    "dag": "đang",
    "chx": "chưa",
    "cám": "cảm",
    "cãm": "cảm",
    "tks": "thanks",
    "thks": "thanks",
    "thx": "thanks",
    "ty": "thanks",
    "dth": "dễ thương",
    "xl": "xin lỗi",
    "sr": "sorry",
    "pls": "please",
    "plz": "please",
    "oke": "ok",
    "okie": "ok",
    "okela": "ok",
    "oki": "ok",
    "okay": "ok",
    "uk": "ừ",
    "uh": "ừ",
    "um": "ừ",
    "ừm": "ừ",
    "ừa": "ừ",
    # contacts, places, admin
    "sđt": "số điện thoại",
    "sdt": "số điện thoại",
    "đt": "điện thoại",
    "dt": "điện thoại",
    "tp": "thành phố",
    "tx": "thị xã",
    "tt": "thị trấn",
    "ubnd": "ủy ban nhân dân",
    "ub": "ủy ban",
    "cq": "cơ quan",
    "cqcn": "cơ quan chức năng",
    "cb": "cán bộ",
    "cbcc": "cán bộ",
    "hcm": "hồ chí minh",
    "tphcm": "thành phố hồ chí minh",
    "hn": "hà nội",
    "sg": "sài gòn",
    "đn": "đà nẵng",
    "csgt": "cảnh sát giao thông",
    "đ": "đường",
    "tdp": "tổ dân phố",
    "gplx": "giấy phép lái xe",
    "cccd": "căn cước công dân",
    "cmnd": "chứng minh nhân dân",
    "bhyt": "bảo hiểm y tế",
    "bhxh": "bảo hiểm xã hội",
    "sđ": "sổ đỏ",
}

_SHORTHAND_RE = re.compile(r"\w+", re.UNICODE)
_REPEAT_RE = re.compile(r"(\w)\1{2,}", re.UNICODE)
_SPACE_RE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Normalized:
    """The forms of one message. `folded` and `ascii` are what the classifiers read."""

    nfc: str
    folded: str
    ascii: str


@dataclass(frozen=True, slots=True)
class Aligned:
    """A lowercase, tone-unified form with the same length as `lower`; `origin[i]` indexes the original."""

    lower: str
    ascii: str
    origin: tuple[int, ...]
    original: str

    @property
    def original_length(self) -> int:
        return len(self.original)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span in the aligned text back to the original text."""
        if start >= len(self.origin):
            return self.original_length, self.original_length
        o_end = self.origin[end] if end < len(self.origin) else self.original_length
        return self.origin[start], o_end


def strip_diacritics(text: str) -> str:
    """Remove every accent and map đ→d (char for char: the length never changes for NFC input)."""
    out = []
    for ch in text:
        if ch in "đĐ":
            out.append("d" if ch == "đ" else "D")
            continue
        base = unicodedata.normalize("NFD", ch)
        out.append(base[0] if base else ch)
    return "".join(out)


def has_diacritics(text: str) -> bool:
    return strip_diacritics(text) != text


def _move_tone(syllable: str) -> str:
    """Unify tone placement on `oa`, `oe`, `uy` at a syllable end: `hoà`→`hòa`, `thuỷ`→`thủy`.

    The classic placement (tone on the first vowel of an open `oa/oe/uy`) is what official
    names use (`Thanh Hóa`, `Khánh Hòa`), so that is the canonical one. `quý` is untouched: after
    `q` the `u` is part of the consonant.
    """
    decomposed = unicodedata.normalize("NFD", syllable)
    tone = next((c for c in decomposed if c in _TONES), None)
    if tone is None:
        return syllable
    bare = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
    low = strip_diacritics(bare.lower())
    m = re.fullmatch(r"([^aeiouy]*)(oa|oe|uy)", low)
    if not m or m.group(1).endswith("q") or (m.group(1) == "g" and low.startswith("gi")):
        return syllable
    idx = len(m.group(1))  # first vowel of the pair carries the tone
    target = unicodedata.normalize("NFD", bare[idx]) + tone
    return bare[:idx] + unicodedata.normalize("NFC", target) + bare[idx + 1 :]


def _nfc_with_origin(text: str) -> tuple[str, list[int]]:
    """NFC by grapheme-ish clusters (base + combining marks), remembering each cluster's start."""
    chars: list[str] = []
    origin: list[int] = []
    i = 0
    n = len(text)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        composed = unicodedata.normalize("NFC", text[i:j])
        for ch in composed:
            chars.append(ch)
            origin.append(i)
        i = j
    return "".join(chars), origin


def _lower_same_length(text: str) -> str:
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def unify_tones(text: str) -> str:
    """Apply `_move_tone` to every word (length-preserving on NFC text)."""
    return _SHORTHAND_RE.sub(lambda m: _move_tone(m.group(0)), text)


def aligned(text: str) -> Aligned:
    """Lowercase NFC text with unified tones, plus its diacritic-free twin, both index-aligned."""
    nfc, origin = _nfc_with_origin(text)
    lower = unify_tones(_lower_same_length(nfc))
    return Aligned(lower=lower, ascii=strip_diacritics(lower), origin=tuple(origin), original=text)


def squash_repeats(text: str) -> str:
    """`đườnggggg` → `đường`, `nguyyyy` → `nguy`, `quáaaa` → `quá`: stretched letters become one.

    3+ identical letters collapse; so does a plain vowel repeating the accented vowel before it
    (Vietnamese never writes `áa`; `oo` as in `xoong` is left alone).
    """
    text = _REPEAT_RE.sub(r"\1", text)
    out: list[str] = []
    for ch in text:
        prev = out[-1] if out else ""
        if ch in "aeiuy" and prev and prev != ch and strip_diacritics(prev).lower() == ch:
            continue
        out.append(ch)
    return "".join(out)


def expand_shorthand(text: str) -> str:
    """Replace whole-word chat shorthand (`ko`, `dc`, `j`, `sđt`…) by the full words."""
    return _SHORTHAND_RE.sub(lambda m: SHORTHAND.get(m.group(0), m.group(0)), text)


def normalize(text: str) -> Normalized:
    """All forms of `text`: NFC, folded (lowercase, accents kept, shorthand expanded) and ascii."""
    nfc = unicodedata.normalize("NFC", text)
    folded = unify_tones(nfc.lower())
    folded = squash_repeats(folded)
    folded = expand_shorthand(folded)
    folded = _SPACE_RE.sub(" ", folded).strip()
    return Normalized(nfc=nfc, folded=folded, ascii=strip_diacritics(folded))
