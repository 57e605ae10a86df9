from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from nlu.areas import AreaIndex
from nlu.entities import EntityExtractor, mask_phone, normalize_phone, words_to_number
from nlu.types import Entity

TODAY = date(2026, 1, 7)  # Wednesday


@pytest.fixture(scope="module")
def extractor() -> EntityExtractor:
    return EntityExtractor(AreaIndex.load(), lambda: TODAY)


def only(entities: list[Entity], name: str) -> list[Entity]:
    return [e for e in entities if e["entity"] == name]


@pytest.mark.parametrize("typed", ["1790 7829", "1790-7829", "17907829", "1790.7829"])
def test_case_code_in_any_written_form(extractor: EntityExtractor, typed: str) -> None:
    text = f"tra mã {typed} giúp em"
    [code] = only(extractor.extract(text), "case_code")
    assert code["value"] == "17907829"
    assert text[code["start"] : code["end"]] == typed


def test_case_code_with_a_typo_is_not_a_code(extractor: EntityExtractor) -> None:
    assert only(extractor.extract("mã 1790 7828"), "case_code") == []


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("0912345678", "0912345678"),
        ("0912.345.678", "0912345678"),
        ("0912 345 678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("84987654321", "0987654321"),
        ("024 3826 1234", "02438261234"),
    ],
)
def test_phone_numbers(extractor: EntityExtractor, typed: str, value: str) -> None:
    text = f"sđt của tôi: {typed}, gọi lại nhé"
    [phone] = only(extractor.extract(text), "phone")
    assert phone["value"] == value
    assert text[phone["start"] : phone["end"]] == typed


@pytest.mark.parametrize("raw", ["0123", "0112345678", "091234567890", "12345"])
def test_not_phone_numbers(raw: str) -> None:
    assert normalize_phone(raw) is None


def test_mask_phone_hides_the_middle() -> None:
    assert mask_phone("0912345678") == "091****678"
    assert mask_phone("+84 912 345 678") == "849*****678"
    assert "2345" not in mask_phone("0912345678")


@pytest.mark.parametrize(
    ("text", "name", "province"),
    [
        ("đường ngập ở phường Hồng Hà", "Phường Hồng Hà", "Thành phố Hà Nội"),
        ("nuoc ngap o phuong hong ha", "Phường Hồng Hà", "Thành phố Hà Nội"),
        ("toi o p.hong ha", "Phường Hồng Hà", "Thành phố Hà Nội"),
        ("phuong hong haa bi mat dien", "Phường Hồng Hà", "Thành phố Hà Nội"),  # typo: fuzzy
        ("sống ở Sài Gòn", "Thành phố Hồ Chí Minh", "Thành phố Hồ Chí Minh"),
        ("tp hcm", "Thành phố Hồ Chí Minh", "Thành phố Hồ Chí Minh"),
        ("ở tỉnh Khánh Hoà", "Tỉnh Khánh Hòa", "Tỉnh Khánh Hòa"),
    ],
)
def test_areas_diacritic_insensitive_and_fuzzy(extractor: EntityExtractor, text: str, name: str, province: str) -> None:
    [area] = only(extractor.extract(text), "area")
    assert area["value"] == name
    assert area["extra"]["province"] == province
    assert area["extra"]["code"]


def test_shared_ward_name_is_resolved_by_the_province_mentioned(extractor: EntityExtractor) -> None:
    areas = only(extractor.extract("xã Tân Tiến, tỉnh Đồng Nai"), "area")
    assert [a["extra"]["kind"] for a in areas] == ["ward", "province"]
    assert areas[0]["extra"]["province"] == "Tỉnh Đồng Nai"


def test_common_words_are_not_areas(extractor: EntityExtractor) -> None:
    assert only(extractor.extract("mong được sống hòa bình, thống nhất ý kiến"), "area") == []


def test_area_offsets_point_into_decomposed_original(extractor: EntityExtractor) -> None:
    text = unicodedata.normalize("NFD", "Ngập ở phường Hồng Hà")
    [area] = only(extractor.extract(text), "area")
    assert unicodedata.normalize("NFC", text[area["start"] : area["end"]]) == "phường Hồng Hà"


@pytest.mark.parametrize(
    ("words", "value"),
    [
        ("một", 1),
        ("hai mươi lăm", 25),
        ("mười hai", 12),
        ("một trăm linh năm", 105),
        ("ba trăm", 300),
        ("hai nghìn không trăm hai mươi sáu", 2026),
        ("bốn mươi tư", 44),
    ],
)
def test_vietnamese_number_words(words: str, value: int) -> None:
    assert words_to_number(words.split()) == value


@pytest.mark.parametrize(
    ("text", "value"), [("chọn số 2", 2), ("tôi chọn hai", 2), ("hai mươi lăm hộ", 25), ("ba", 3), ("chon so ba", 3)]
)
def test_number_entities(extractor: EntityExtractor, text: str, value: int) -> None:
    [number] = only(extractor.extract(text), "number")
    assert number["value"] == value


def test_no_number_for_plain_no(extractor: EntityExtractor) -> None:
    assert only(extractor.extract("không"), "number") == []
    assert only(extractor.extract("sau do di ve"), "number") == []  # ascii "sau" = after, not six


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("từ hôm qua", "2026-01-06"),
        ("hom nay mat dien", "2026-01-07"),
        ("ngày mai sửa nhé", "2026-01-08"),
        ("hôm kia", "2026-01-05"),
        ("ngập từ thứ hai", "2026-01-05"),
        ("chủ nhật này", "2026-01-11"),
        ("ngày 5/3/2025", "2025-03-05"),
        ("12-01-2026", "2026-01-12"),
        ("20/11", "2026-11-20"),
        ("ngày 3 tháng 2 năm 2025", "2025-02-03"),
        ("2026-01-02", "2026-01-02"),
    ],
)
def test_dates_as_iso(extractor: EntityExtractor, text: str, iso: str) -> None:
    [when] = only(extractor.extract(text), "date")
    assert when["value"] == iso


def test_ordinal_is_not_a_weekday(extractor: EntityExtractor) -> None:
    entities = extractor.extract("tôi chọn phương án thứ hai")
    assert only(entities, "date") == []
    assert [e["value"] for e in only(entities, "number")] == [2]


def test_invalid_date_is_ignored(extractor: EntityExtractor) -> None:
    assert only(extractor.extract("31/02/2026"), "date") == []


def test_phone_wins_over_code_and_numbers(extractor: EntityExtractor) -> None:
    entities = extractor.extract("0912 3456 78")
    assert [e["entity"] for e in entities] == ["phone"]


def test_entities_have_rasa_fields(extractor: EntityExtractor) -> None:
    text = "Mã 1790 7829, sđt 0912345678, phường Hồng Hà, hôm qua, 3 người"
    entities = extractor.extract(text)
    assert [e["entity"] for e in entities] == ["case_code", "phone", "area", "date", "number"]
    for e in entities:
        assert {"entity", "start", "end", "value", "confidence", "confidence_entity", "extractor"} <= set(e)
        assert 0 <= e["start"] < e["end"] <= len(text)
