"""The public dashboard page and its JSON twin show exactly what the store holds."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from bot.context import AppContext
from tests.dashboard.conftest import HUE, World


def kpis(html: str) -> list[str]:
    return re.findall(r'<span class="value">([^<]*)</span>', html)


async def test_page_in_vietnamese_matches_the_store(client: TestClient[Any, Any], ctx: AppContext,
                                                    world: World) -> None:
    response = await client.get("/dashboard")
    assert response.status == 200 and response.content_type == "text/html"
    html = await response.text()
    assert '<html lang="vi">' in html and "<script" not in html and "http://" not in html and "https://" not in html
    assert "Minh bạch phản ánh của người dân" in html and "90 ngày qua · Cả nước" in html
    since = ctx.clock.now() - timedelta(days=90)
    total = await ctx.store.cases.count(since=since)
    assert total == 4
    # total, median ack (2, 4, 6 h), median resolve (10, 12 h), on time (1 of 2), overdue (C)
    assert kpis(html) == ["4", "4 giờ", "11 giờ", "50%", "1"]
    assert "1/2 phản ánh" in html
    assert re.search(r'<th scope="row">Đã xử lý xong</th><td class=num>2</td><td class=num>50%</td>', html)
    assert re.search(r'<th scope="row">Đường sá, giao thông</th><td class=num>2</td>', html)
    assert re.search(r'<th scope="row">Thành phố Huế</th><td class=num>2</td><td class=num>0</td>'
                     r'<td class=num>2</td><td class=num>50%</td>', html)
    assert re.search(r'<th scope="row">Thành phố Hà Nội</th><td class=num>1</td><td class=num>1</td>', html)
    assert re.search(r'<th scope="row">Chưa rõ địa bàn</th><td class=num>1</td>', html)
    assert "5/1: 4 mới, 2 xử lý xong" in html  # the trend bar of the filing day
    assert html.count("<rect x=") == 60  # 30 days, two bars each
    assert 'href="/opendata/cases.csv"' in html and 'href="/dashboard?days=90&amp;lang=en"' in html
    assert "0912" not in html and "Người dân" not in html


async def test_page_in_english_with_filters(client: TestClient[Any, Any], world: World) -> None:
    html = await (await client.get(f"/dashboard?lang=en&area={HUE}&days=365")).text()
    assert '<html lang="en">' in html and "Transparency: citizen reports" in html
    assert "Last 365 days · Thành phố Huế" in html
    assert kpis(html) == ["3", "4 h", "11 h", "50%", "1"]  # A, D and the old E (overdue)
    assert re.search(r'<th scope="row">Roads, traffic</th><td class=num>2</td>', html)
    assert re.search(r'<th scope="row">Health</th><td class=num>1</td>', html)
    assert "Thành phố Hà Nội" not in html
    assert 'href="/opendata/cases.csv?area=46"' in html
    assert "lang=vi" in html and "area=46" in html


async def test_empty_store_renders(client: TestClient[Any, Any]) -> None:
    html = await (await client.get("/dashboard?lang=en")).text()
    assert "No reports in this period yet." in html and kpis(html) == ["0", "None yet", "None yet", "None yet", "0"]


async def test_bad_parameters_are_400_not_500(client: TestClient[Any, Any]) -> None:
    for query, text in (("area=99999", "Không tìm thấy địa bàn có mã 99999."), ("days=abc", "Số ngày"),
                        ("days=0", "Số ngày"), ("days=%C2%B2", "Số ngày"), ("days=99999", "Số ngày"),
                        ("days=-5", "Số ngày")):
        response = await client.get(f"/dashboard?{query}")
        assert response.status == 400, query
        assert text in await response.text()
    response = await client.get("/dashboard?lang=en&area=%3Cscript%3E")
    body = await response.text()
    assert response.status == 400 and "<script>" not in body and "&lt;script&gt;" in body
    for query in ("area=nope", "days=1.5"):
        response = await client.get(f"/api/stats.json?{query}")
        assert response.status == 400 and "error" in await response.json()


async def test_stats_json_has_the_same_figures(client: TestClient[Any, Any], ctx: AppContext, world: World) -> None:
    response = await client.get("/api/stats.json")
    assert response.status == 200
    stats = await response.json()
    assert stats["total"] == 4 and stats["scope"]["days"] == 90 and stats["scope"]["area"] is None
    assert stats["by_status"]["resolved"] == 2 and stats["by_status"]["acknowledged"] == 1
    assert stats["by_status"]["received"] == 1 and stats["by_status"]["closed"] == 0
    assert stats["by_category"]["traffic_roads"] == 2 and stats["by_category"]["education"] == 0
    assert (stats["median_ack_hours"], stats["median_resolve_hours"]) == (4.0, 11.0)
    assert (stats["resolved_with_deadline"], stats["resolved_on_time"], stats["on_time_share"]) == (2, 1, 0.5)
    assert stats["overdue"] == 1
    provinces = {p["code"]: p for p in stats["provinces"]}
    assert provinces[HUE] == {"code": HUE, "name": "Thành phố Huế", "total": 2, "open": 0, "resolved": 2,
                              "on_time": 1}
    assert provinces[None]["total"] == 1
    assert len(stats["trend"]) == 30 and stats["trend"][-1]["date"] == "2026-01-07"
    assert stats["trend"][-3] == {"date": "2026-01-05", "filed": 4, "resolved": 2}
    assert sum(d["filed"] for d in stats["trend"]) == 4
    huế = await (await client.get(f"/api/stats.json?area={HUE}&days=365")).json()
    assert huế["total"] == 3 and huế["scope"]["area"] == {"code": HUE, "name": "Thành phố Huế"}
    assert huế["overdue"] == 1  # E; A and D are resolved
    assert huế["overdue"] == await ctx.store.cases.count(status=["received"], area_ids=[world.e.area_id or 0])
