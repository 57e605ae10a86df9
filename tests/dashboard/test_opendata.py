"""Open-data downloads: every format, redaction, filters, streaming in batches, bad input."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.opendata import PUBLIC_FIELDS
from integrations.dashboard import exports
from tests.dashboard.conftest import HUE, World

PII = ("0912", "345 678", "x@y.vn", "Người dân", "9000", "citizen_id")


async def get(client: TestClient[Any, Any], path: str) -> tuple[int, str, str]:
    response = await client.get(path)
    return response.status, response.content_type, await response.text()


async def test_json_is_redacted(client: TestClient[Any, Any], world: World) -> None:
    status, ctype, text = await get(client, "/opendata/cases.json")
    assert status == 200 and ctype == "application/json"
    rows = {r["code"]: r for r in json.loads(text)}
    assert set(rows) == {world.a.code, world.b.code, world.c.code, world.d.code, world.e.code}
    for row in rows.values():
        assert tuple(row) == PUBLIC_FIELDS
    for needle in PII:
        assert needle not in text
    b = rows[world.b.code]
    assert b["description"] == "Trạm y tế đóng cửa, gọi *** hoặc ***"
    assert (b["lat"], b["lon"], b["anonymous"]) == (21.029, 105.854, True)
    assert (b["area_code"], b["area"], b["province"]) == ("00070", "Phường Hoàn Kiếm", "Thành phố Hà Nội")
    a = rows[world.a.code]
    assert (a["lat"], a["lon"], a["status"]) == (16.4637123, 107.5909456, "resolved")
    assert a["resolved_at"] == "2026-01-05T12:00:00+00:00"


async def test_csv_has_a_header_and_one_row_per_case(client: TestClient[Any, Any], world: World) -> None:
    status, ctype, text = await get(client, "/opendata/cases.csv")
    assert status == 200 and ctype == "text/csv"
    reader = csv.DictReader(io.StringIO(text))
    assert tuple(reader.fieldnames or ()) == PUBLIC_FIELDS
    rows = list(reader)
    assert len(rows) == 5
    b = next(r for r in rows if r["code"] == world.b.code)
    assert b["description"] == "Trạm y tế đóng cửa, gọi *** hoặc ***" and b["lat"] == "21.029"
    for needle in PII:
        assert needle not in text


async def test_geojson_points_only_where_located(client: TestClient[Any, Any], world: World) -> None:
    status, ctype, text = await get(client, "/opendata/cases.geojson")
    assert status == 200 and ctype == "application/geo+json"
    collection = json.loads(text)
    assert collection["type"] == "FeatureCollection" and len(collection["features"]) == 5
    features = {f["id"]: f for f in collection["features"]}
    assert features[world.b.code]["geometry"] == {"type": "Point", "coordinates": [105.854, 21.029]}
    assert features[world.c.code]["geometry"] is None
    assert features[world.a.code]["properties"]["category"] == "traffic_roads"
    assert "lat" not in features[world.a.code]["properties"]
    for needle in PII:
        assert needle not in text


async def test_filters(client: TestClient[Any, Any], world: World) -> None:
    async def codes(query: str) -> set[str]:
        status, _, text = await get(client, f"/opendata/cases.json?{query}")
        assert status == 200, text
        return {r["code"] for r in json.loads(text)}

    assert await codes("status=resolved") == {world.a.code, world.d.code}
    assert await codes("status=received,acknowledged") == {world.b.code, world.c.code, world.e.code}
    assert await codes("category=health") == {world.b.code, world.e.code}
    assert await codes(f"area={HUE}") == {world.a.code, world.d.code, world.e.code}
    assert await codes("area=19777") == {world.d.code}
    assert await codes("since=2026-01-01") == {world.a.code, world.b.code, world.c.code, world.d.code}
    assert await codes("since=2026-01-05T09:00:00%2B07:00&category=traffic_roads&area=46") == {
        world.a.code, world.d.code}
    assert await codes("since=2026-02-01T00:00:00Z") == set()


@pytest.mark.parametrize("query", ["status=pending", "category=potholes", "since=last-week", "area=000",
                                   "since=2026-13-45", "since=0001-01-01T00:00:00%2B07:00"])
async def test_bad_filters_are_400(client: TestClient[Any, Any], query: str) -> None:
    for fmt in ("csv", "json", "geojson"):
        response = await client.get(f"/opendata/cases.{fmt}?{query}")
        assert response.status == 400
        assert (await response.json())["error"]


async def test_large_exports_stream_in_batches(client: TestClient[Any, Any], world: World,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exports, "BATCH", 2)  # five cases: three batches, three reads
    reads = 0
    real = exports.publicstats.iter_cases

    async def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal reads
        assert kwargs["batch"] == 2
        async for case in real(*args, **kwargs):
            reads += 1
            yield case

    monkeypatch.setattr(exports.publicstats, "iter_cases", counting)
    for fmt in ("csv", "json", "geojson"):
        status, _, text = await get(client, f"/opendata/cases.{fmt}")
        assert status == 200
        if fmt == "csv":
            assert len(list(csv.DictReader(io.StringIO(text)))) == 5
        elif fmt == "json":
            assert len(json.loads(text)) == 5
        else:
            assert len(json.loads(text)["features"]) == 5
    assert reads == 15
    status, _, text = await get(client, "/opendata/cases.json?category=education")
    assert status == 200 and json.loads(text) == []
    status, _, text = await get(client, "/opendata/cases.geojson?category=education")
    assert json.loads(text) == {"type": "FeatureCollection", "features": []}


async def test_unknown_format_is_404(client: TestClient[Any, Any]) -> None:
    assert (await client.get("/opendata/cases.xml")).status == 404
