from __future__ import annotations

import unicodedata

import pytest

from nlu.normalize import aligned, expand_shorthand, has_diacritics, normalize, squash_repeats, strip_diacritics


@pytest.mark.parametrize(
    ("old", "new"),
    [("hoà", "hòa"), ("Thuỷ lợi", "thủy lợi"), ("khoẻ", "khỏe"), ("THANH HOÁ", "thanh hóa"), ("hoè", "hòe")],
)
def test_tone_placement_is_unified(old: str, new: str) -> None:
    assert normalize(old).folded == normalize(new).folded == new


@pytest.mark.parametrize("word", ["quý", "quỳnh", "hoàng", "khuyến", "thuyền", "giá"])
def test_tone_placement_keeps_words_where_it_is_fixed(word: str) -> None:
    assert normalize(word).folded == word


def test_decomposed_unicode_becomes_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Phường Hồng Hà")
    result = normalize(decomposed)
    assert result.nfc == "Phường Hồng Hà"
    assert result.folded == "phường hồng hà"
    assert result.ascii == "phuong hong ha"


def test_ascii_form_maps_d_bar_and_strips_every_accent() -> None:
    assert strip_diacritics("Đường ĐIỆN Biên") == "Duong DIEN Bien"
    assert not has_diacritics("duong ngap") and has_diacritics("đường")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ko dc j", "không được gì"),
        ("hok bit ntn", "không biết như thế nào"),
        ("đc r ak", "được rồi à"),
        ("bn tiền z", "bao nhiêu tiền vậy"),
        ("ck vk ms mn", "chồng vợ mới mọi người"),
        ("cho xin sđt", "cho xin số điện thoại"),
        ("bh có kq", "bao giờ có kết quả"),
        ("hông biết", "không biết"),
        ("tp hcm", "thành phố hồ chí minh"),
    ],
)
def test_chat_shorthand_is_expanded(typed: str, expected: str) -> None:
    assert normalize(typed).folded == expected


def test_shorthand_only_replaces_whole_words() -> None:
    assert expand_shorthand("kho ko") == "kho không"
    assert normalize("đèn hong").folded == "đèn hong"  # "hỏng" typed without accents stays


@pytest.mark.parametrize(
    ("typed", "expected"), [("đườnggggg", "đường"), ("nguyyyy", "nguy"), ("ngập quáaaaa", "ngập quá")]
)
def test_stretched_letters_are_squashed(typed: str, expected: str) -> None:
    assert squash_repeats(typed) == expected
    assert normalize(typed).folded == expected


def test_double_letters_are_kept() -> None:
    assert squash_repeats("xoong") == "xoong"


def test_aligned_form_maps_back_to_original_offsets() -> None:
    original = unicodedata.normalize("NFD", "Ở Phường Hoà Bình!")
    a = aligned(original)
    assert len(a.lower) == len(a.ascii) == len(a.origin)
    start = a.ascii.index("phuong hoa binh")
    o_start, o_end = a.span(start, start + len("phuong hoa binh"))
    assert unicodedata.normalize("NFC", original[o_start:o_end]) == "Phường Hoà Bình"
    assert a.lower[start : start + 15] == "phường hòa bình"


def test_empty_and_symbol_only_text() -> None:
    assert normalize("").folded == ""
    assert normalize("   🙂🙂 ").folded == "🙂🙂"
