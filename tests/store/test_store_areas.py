"""Administrative areas: loading, lists, fuzzy search, nearest commune; on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools

import pytest

from bot.store import Store


async def test_all_provinces_and_communes_are_loaded(store: Store) -> None:
    assert await store.areas.count(level="province") == 34
    assert await store.areas.count(level="commune") == 3321
    assert await store.areas.count() == 3355


async def test_loading_again_changes_nothing(store: Store) -> None:
    seen: list[tuple[int, int]] = []
    assert await store.areas.load_from_package(progress=lambda done, total: seen.append((done, total))) == 0
    assert await store.areas.count() == 3355
    assert seen[-1] == (3355, 3355)
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(seen))


async def test_provinces_sorted_without_diacritics(store: Store) -> None:
    provinces = await store.areas.provinces()
    assert len(provinces) == 34
    keys = [p.search_key for p in provinces]
    assert keys == sorted(keys)
    assert provinces[0].name == "Tỉnh An Giang"
    hue = await store.areas.by_code("46")
    assert hue is not None and hue in provinces
    assert (hue.name, hue.short_name, hue.kind, hue.level) == ("Thành phố Huế", "Huế", "Thành phố", "province")


async def test_communes_of_a_province(store: Store) -> None:
    hcm = await store.areas.by_code("79")
    assert hcm is not None
    communes = await store.areas.communes(hcm.id)
    assert len(communes) == 168
    assert all(c.parent_id == hcm.id and c.level == "commune" for c in communes)
    saigon = await store.areas.by_code("26740")
    assert saigon is not None and saigon in communes
    assert saigon.full_name == "Phường Sài Gòn, Thành phố Hồ Chí Minh"
    assert await store.areas.get(saigon.id) == saigon
    assert await store.areas.descendants_ids(hcm.id) == {hcm.id} | {c.id for c in communes}
    assert await store.areas.descendants_ids(saigon.id) == {saigon.id}
    assert await store.areas.descendants_ids(-1) == set()
    assert await store.areas.by_code("nope") is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Phường Vỹ Dạ", "Phường Vỹ Dạ, Thành phố Huế"),
        ("phuong vy da", "Phường Vỹ Dạ, Thành phố Huế"),
        ("VY DA", "Phường Vỹ Dạ, Thành phố Huế"),
        ("Vỹ Dạ, Huế", "Phường Vỹ Dạ, Thành phố Huế"),
        ("p. phu xuan hue", "Phường Phú Xuân, Thành phố Huế"),
        ("xã quảng điền", "Xã Quảng Điền, Thành phố Huế"),
        # pre-2025 names lead to the commune that absorbed them
        ("phuong ben nghe", "Phường Sài Gòn, Thành phố Hồ Chí Minh"),
        ("Bến Nghé", "Phường Sài Gòn, Thành phố Hồ Chí Minh"),
        ("ben nghe hcm", "Phường Sài Gòn, Thành phố Hồ Chí Minh"),
        ("Bến Nghé, TP.HCM", "Phường Sài Gòn, Thành phố Hồ Chí Minh"),
        # provinces, by name, without diacritics or by alias
        ("tp hcm", "Thành phố Hồ Chí Minh"),
        ("Thành phố Hồ Chí Minh", "Thành phố Hồ Chí Minh"),
        ("ha noi", "Thành phố Hà Nội"),
        ("tinh thanh hoa", "Tỉnh Thanh Hóa"),
    ],
)
async def test_search_finds_the_place(store: Store, query: str, expected: str) -> None:
    results = await store.areas.search(query)
    assert results, query
    best, score = results[0]
    assert best.full_name == expected
    assert 0.6 <= score <= 1.0


async def test_search_with_a_typo_still_finds_it(store: Store) -> None:
    best, score = (await store.areas.search("phuong vi da hue"))[0]
    assert best.name == "Phường Vỹ Dạ"
    assert score < 1.0


async def test_ambiguous_names_return_several_and_a_province_narrows(store: Store) -> None:
    results = await store.areas.search("xã tân thành", limit=5)
    assert len(results) == 5
    assert len({a.parent_id for a, _ in results}) == 5
    assert all(a.name == "Xã Tân Thành" and s == 1.0 for a, s in results)

    dong_thap = (await store.areas.search("Đồng Tháp", level="province"))[0][0]
    narrowed = await store.areas.search("tan thanh", province_id=dong_thap.id, limit=10)
    assert narrowed and all(a.parent_id == dong_thap.id for a, _ in narrowed)


async def test_search_level_filter_and_nothing_found(store: Store) -> None:
    provinces = await store.areas.search("hue", level="province")
    assert provinces[0][0].code == "46"
    assert all(a.level == "province" for a, _ in provinces)
    communes = await store.areas.search("hue", level="commune")
    assert communes and all(a.level == "commune" for a, _ in communes)
    assert await store.areas.search("") == []
    assert await store.areas.search("   ,  ") == []
    assert await store.areas.search("qwxzjk") == []


async def test_nearest_commune(store: Store) -> None:
    ward = await store.areas.nearest(16.46, 107.59)  # the centre of Huế
    assert ward is not None
    assert ward.level == "commune" and ward.parent_name == "Thành phố Huế"
    assert ward.name == "Phường Thuận Hóa"

    saigon = await store.areas.nearest(10.7769, 106.7009)  # Nhà hát Thành phố, HCMC
    assert saigon is not None and saigon.name == "Phường Sài Gòn"

    assert await store.areas.nearest(0.0, 0.0) is None  # nowhere near Vietnam
