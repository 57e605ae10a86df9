"""User-facing text: Babel catalogs with symbolic keys, one domain (.po file) per feature.

Keys like ``report.ask_photo`` keep every sentence out of code; `vi` is the source language
and the fallback. Each feature owns its own domain file under ``locales/<lang>/LC_MESSAGES``
so features can grow their catalogs independently; all domains of a language are merged.
"""

from __future__ import annotations

import logging
import string
from datetime import datetime
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import get_timezone
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

log = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
SUPPORTED = ("vi", "en")


class _Formatter(string.Formatter):
    """str.format that leaves unknown placeholders visible instead of raising."""

    def get_value(self, key: int | str, args: Any, kwargs: Any) -> Any:
        if isinstance(key, str) and key not in kwargs:
            return "{" + key + "}"
        return super().get_value(key, args, kwargs)


_FORMATTER = _Formatter()


def _load_domain(po_path: Path) -> dict[str, str]:
    mo_path = po_path.with_suffix(".mo")
    if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
        with mo_path.open("rb") as fh:
            catalog = read_mo(fh)
    else:
        with po_path.open("rb") as fh:
            catalog = read_po(fh)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}


class Catalogs:
    """All translations, loaded once at start-up."""

    def __init__(self, locales_dir: Path = LOCALES_DIR, default_locale: str = "vi",
                 timezone: str = "Asia/Ho_Chi_Minh") -> None:
        self.default_locale = default_locale
        self.timezone = timezone
        self._messages: dict[str, dict[str, str]] = {}
        for lang in SUPPORTED:
            merged: dict[str, str] = {}
            for po in sorted((locales_dir / lang / "LC_MESSAGES").glob("*.po")):
                merged.update(_load_domain(po))
            self._messages[lang] = merged

    def normalize_locale(self, locale: str | None) -> str:
        if locale:
            short = locale.split("-")[0].split("_")[0].lower()
            if short in self._messages:
                return short
        return self.default_locale

    def has(self, key: str, locale: str) -> bool:
        return key in self._messages.get(locale, {})

    def keys(self, locale: str) -> set[str]:
        return set(self._messages.get(locale, {}))

    def t(self, locale: str | None, key: str, /, **params: Any) -> str:
        """The text for `key` in `locale`, falling back to Vietnamese, then to the key itself."""
        lang = self.normalize_locale(locale)
        text = self._messages[lang].get(key)
        if text is None:
            text = self._messages[self.default_locale].get(key)
            if text is None:
                log.warning("missing catalog key %s", key)
                return key
        return _FORMATTER.format(text, **params) if params else text

    def datetime(self, value: datetime, locale: str | None, fmt: str = "short") -> str:
        lang = self.normalize_locale(locale)
        return babel_format_datetime(value, format=fmt, tzinfo=get_timezone(self.timezone), locale=Locale.parse(lang))

    def number(self, value: float, locale: str | None) -> str:
        return format_decimal(value, locale=self.normalize_locale(locale))
