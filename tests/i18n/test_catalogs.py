"""Every text the code asks for exists in Vietnamese and English, with the same placeholders."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from bot.i18n import LOCALES_DIR, Catalogs

ROOT = Path(__file__).resolve().parents[2]
KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
TEXT_CALLS = {"t", "btn", "say", "ask"}


def _used_keys() -> dict[str, str]:
    used: dict[str, str] = {}
    for package in ("bot", "dialogs", "integrations"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                if node.func.attr not in TEXT_CALLS:
                    continue
                for arg in node.args[:3]:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and KEY.match(arg.value):
                        used[arg.value] = f"{path.relative_to(ROOT)}:{node.lineno}"
                        break
    return used


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.fixture(scope="module")
def catalogs() -> Catalogs:
    return Catalogs(LOCALES_DIR)


def test_every_used_key_is_translated(catalogs: Catalogs) -> None:
    missing = [f"{key} ({where}) [{lang}]" for key, where in sorted(_used_keys().items())
               for lang in ("vi", "en") if not catalogs.has(key, lang)]
    assert not missing, "missing catalog entries:\n" + "\n".join(missing)


def test_languages_have_the_same_keys_and_placeholders(catalogs: Catalogs) -> None:
    vi, en = catalogs.keys("vi"), catalogs.keys("en")
    assert vi == en, f"only vi: {sorted(vi - en)[:20]} only en: {sorted(en - vi)[:20]}"
    for key in vi:
        raw_vi = catalogs._messages["vi"][key]
        raw_en = catalogs._messages["en"][key]
        assert _fields(raw_vi) == _fields(raw_en), key


def test_vietnamese_sentences_are_short(catalogs: Catalogs) -> None:
    """Low-literacy users: at most 20 words a sentence in Vietnamese prompts."""
    long_ones = []
    for key in catalogs.keys("vi"):
        text = re.sub(r"\{[^}]*\}", "X", catalogs._messages["vi"][key])
        for sentence in re.split(r"[.!?\n]+", text):
            if len(sentence.split()) > 20:
                long_ones.append(f"{key}: {sentence.strip()}")
    assert not long_ones, "\n".join(long_ones)


def test_buttons_start_with_an_emoji(catalogs: Catalogs) -> None:
    """Every button label from the catalog carries an icon (DESIGN.md conversation rules)."""
    used = _used_keys()
    labels = set()
    for path in (ROOT / "dialogs").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "btn":
                arg = node.args[0] if node.args else None
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    labels.add(arg.value)
    bad = [key for key in labels if key in used and catalogs._messages["vi"][key][:1].isalnum()]
    assert not bad, bad


def test_every_po_file_exists_in_both_languages() -> None:
    vi = {p.name for p in (LOCALES_DIR / "vi" / "LC_MESSAGES").glob("*.po")}
    en = {p.name for p in (LOCALES_DIR / "en" / "LC_MESSAGES").glob("*.po")}
    assert vi == en and "citizen.po" in vi
