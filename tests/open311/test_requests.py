"""Filing and reading service requests the way an Open311 client does (form posts, JSON/XML)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot import sla
from bot.clock import FixedClock
from bot.context import AppContext
from bot.messages import Media
from bot.store.models import ChannelIdentity, Citizen
from tests.open311.conftest import API_KEY

HUE = {"lat": "16.4637123", "long": "107.5909456"}


async def post(client: TestClient[Any, Any], fmt: str = "json", **form: str) -> Any:
    response = await client.post(f"/open311/v2/requests.{fmt}", data=form)
    return response.status, (await response.json() if fmt == "json" else await response.text())


async def case_count(ctx: AppContext) -> int:
    return await ctx.store.cases.count()


async def test_create_files_a_case_like_a_chat_report(client: TestClient[Any, Any], ctx: AppContext) -> None:
    status, body = await post(client, api_key=API_KEY, service_code="traffic_roads", **HUE,
                              description="Ổ gà lớn trước số 12", phone="0912 345 678", email="An@Mail.vn",
                              first_name="Lê", last_name="An", media_url="https://photos.example.org/p/1.jpg")
    assert status == 200
    assert len(body) == 1 and body[0]["account_id"] is None
    code = body[0]["service_request_id"]
    assert code.isdigit() and len(code) == 8
    assert "Đã nhận phản ánh" in body[0]["service_notice"]

    case = await ctx.store.cases.get_by_code(code)
    assert case is not None
    assert (case.category, case.source_channel, case.status, case.anonymous) == ("traffic_roads", "open311",
                                                                               "received", False)
    assert case.description == "Ổ gà lớn trước số 12"
    assert case.lat == 16.4637123 and case.lon == 107.5909456
    area = await ctx.store.areas.get(case.area_id or 0)
    assert area is not None and area.parent_name == "Thành phố Huế"
    ack_due, due = sla.due_times(ctx.settings, ctx.clock.now(), "traffic_roads")
    assert (case.ack_due_at, case.due_at) == (ack_due, due)
    [attachment] = await ctx.store.cases.attachments(case.id)
    assert attachment.source_ref == "https://photos.example.org/p/1.jpg" and not attachment.stored

    citizen = await ctx.store.citizens.get(case.citizen_id)
    assert citizen is not None and citizen.display_name == "Lê An"
    [identity] = citizen.identities
    assert identity.channel == "open311"
    async with ctx.store.cases.read() as s:  # the phone, e-mail and API key are nowhere in plain text
        stored = [repr(r.__dict__) for r in await s.scalars(select(Citizen))]
        stored += [repr(r.__dict__) for r in await s.scalars(select(ChannelIdentity))]
    text = " ".join(stored)
    assert "912" not in text and "mail.vn" not in text.lower() and API_KEY not in text

    # the same person again (phone written differently): the same citizen
    status, body = await post(client, api_key=API_KEY, service_code="health", **HUE, phone="+84912345678")
    again = await ctx.store.cases.get_by_code(body[0]["service_request_id"])
    assert status == 200 and again is not None and again.citizen_id == case.citizen_id


async def test_create_with_an_address_in_xml(client: TestClient[Any, Any], ctx: AppContext) -> None:
    status, text = await post(client, "xml", api_key=API_KEY, service_code="flooding_drainage",
                              address_string="12 Nguyễn Sinh Cung, phường Vỹ Dạ, Huế", locale="en")
    assert status == 200
    root = ET.fromstring(text)
    assert root.tag == "service_requests"
    code = root.findtext("request/service_request_id")
    assert code and "received" in (root.findtext("request/service_notice") or "")
    case = await ctx.store.cases.get_by_code(code)
    assert case is not None and case.area_name == "Phường Vỹ Dạ" and case.lat is None
    assert case.anonymous  # no contact, no name
    internal = await ctx.store.cases.timeline(case.id, include_internal=True)
    assert any(e.kind == "note" and not e.public and "Nguyễn Sinh Cung" in (e.body or "") for e in internal)
    assert all("Nguyễn Sinh Cung" not in (e.body or "") for e in await ctx.store.cases.timeline(case.id))


async def test_refusals_follow_the_spec_and_file_nothing(client: TestClient[Any, Any], ctx: AppContext) -> None:
    cases = [
        ({"service_code": "health", **HUE}, 403),
        ({"api_key": "wrong", "service_code": "health", **HUE}, 403),
        ({"api_key": API_KEY, **HUE}, 400),
        ({"api_key": API_KEY, "service_code": "potholes", **HUE}, 404),
        ({"api_key": API_KEY, "service_code": "health"}, 400),
        ({"api_key": API_KEY, "service_code": "health", "lat": "16.46"}, 400),
        ({"api_key": API_KEY, "service_code": "health", "lat": "abc", "long": "107"}, 400),
        ({"api_key": API_KEY, "service_code": "health", "lat": "nan", "long": "107"}, 400),
        ({"api_key": API_KEY, "service_code": "health", "lat": "95", "long": "107"}, 400),
        ({"api_key": API_KEY, "service_code": "health", **HUE, "description": "x" * 4001}, 400),
        ({"api_key": API_KEY, "service_code": "health", **HUE, "phone": "12"}, 400),
        ({"api_key": API_KEY, "service_code": "health", **HUE, "email": "not-an-email"}, 400),
        ({"api_key": API_KEY, "service_code": "health", **HUE, "media_url": "file:///etc/passwd"}, 400),
    ]
    for form, expected in cases:
        status, body = await post(client, **form)
        assert status == expected, form
        assert body == [{"code": expected, "description": body[0]["description"]}] and body[0]["description"]
    status, text = await post(client, "xml", service_code="health", **HUE)
    root = ET.fromstring(text)
    assert status == 403 and root.tag == "errors" and root.findtext("error/code") == "403"
    status, body = await post(client, api_key=API_KEY, service_code="health", **HUE,
                              description="x" * 4000)
    assert status == 200
    assert await case_count(ctx) == 1


async def test_a_json_body_or_garbage_is_refused_not_crashed(client: TestClient[Any, Any], ctx: AppContext) -> None:
    response = await client.post("/open311/v2/requests.json", json={"api_key": API_KEY})
    assert response.status == 403
    response = await client.post("/open311/v2/requests.json", data=b"\xff\xfe\x00api_key=%ZZ",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status in (400, 403)
    assert await case_count(ctx) == 0


async def _file(client: TestClient[Any, Any], code: str, **form: str) -> str:
    status, body = await post(client, api_key=API_KEY, service_code=code, **form)
    assert status == 200, body
    return str(body[0]["service_request_id"])


async def test_list_filter_and_get(client: TestClient[Any, Any], ctx: AppContext, clock: FixedClock) -> None:
    old = await _file(client, "health", **HUE, email="a@b.vn", description="Gọi 0987654321")
    clock.advance(days=100)
    roads = await _file(client, "traffic_roads", **HUE, email="a@b.vn")
    clock.advance(hours=1)
    water = await _file(client, "utilities_power_water", address_string="Vỹ Dạ, Huế", email="c@d.vn")

    listed = await (await client.get("/open311/v2/requests.json")).json()
    assert [r["service_request_id"] for r in listed] == [water, roads]  # newest first, last 90 days
    window = await (await client.get("/open311/v2/requests.json", params={
        "start_date": "2026-01-01T00:00:00+07:00", "end_date": "2026-01-31T00:00:00Z"})).json()
    assert [r["service_request_id"] for r in window] == [old]
    by_code = await (await client.get("/open311/v2/requests.json?service_code=traffic_roads")).json()
    assert [r["service_request_id"] for r in by_code] == [roads]
    by_ids = await (await client.get(f"/open311/v2/requests.json?service_request_id={old},{water},99999999"
                                     "&service_code=health")).json()
    assert sorted(r["service_request_id"] for r in by_ids) == sorted([old, water])

    one = await (await client.get(f"/open311/v2/requests/{old}.json")).json()
    assert len(one) == 1
    row = one[0]
    assert row["description"] == "Gọi ***"  # a phone typed in a description is masked
    assert row["service_name"] == "Y tế" and row["service_code"] == "health" and row["status"] == "open"
    assert row["requested_datetime"] == "2026-01-05T09:00:00+07:00"
    assert row["expected_datetime"].endswith("+07:00")
    assert row["address"].endswith("Thành phố Huế") and row["lat"] == 16.4637123 and row["long"] == 107.5909456
    assert not {"email", "phone", "first_name", "last_name", "account_id"} & set(row)

    xml = ET.fromstring(await (await client.get(f"/open311/v2/requests/{water}.xml?locale=en")).text())
    assert xml.tag == "service_requests" and xml.findtext("request/service_name") == "Power, water"
    assert xml.findtext("request/status") == "open" and xml.findtext("request/address", "").startswith("Phường Vỹ Dạ")

    token = await (await client.get(f"/open311/v2/tokens/{water}.json")).json()
    assert token == [{"service_request_id": water, "token": water}]
    assert (await client.get("/open311/v2/tokens/nope.json")).status == 404
    assert (await client.get("/open311/v2/requests/12345678.json")).status == 404


async def test_bad_query_parameters_are_400(client: TestClient[Any, Any]) -> None:
    for query in ("start_date=yesterday", "end_date=2026-13-01", "status=pending", "start_date=9999-12-31",
                  "end_date=0001-01-01T00:00:00%2B07:00",
                  "start_date=2026-02-01T00:00:00Z&end_date=2026-01-01T00:00:00Z",
                  "service_request_id=" + ",".join(["1"] * 101)):
        response = await client.get(f"/open311/v2/requests.json?{query}")
        assert response.status == 400, query
        assert (await response.json())[0]["code"] == 400
    response = await client.get("/open311/v2/requests.xml?status=pending")
    assert response.status == 400 and ET.fromstring(await response.text()).tag == "errors"
    response = await client.get("/open311/v2/requests.json?service_code=potholes")
    assert response.status == 404


async def test_status_follows_the_lifecycle(client: TestClient[Any, Any], ctx: AppContext,
                                            clock: FixedClock) -> None:
    code = await _file(client, "traffic_roads", **HUE, email="a@b.vn")
    case = await ctx.store.cases.get_by_code(code)
    assert case is not None
    clock.advance(hours=1)
    await ctx.store.cases.acknowledge(case.id, official_id=1)
    await ctx.store.cases.assign(case.id, "Đội duy tu đường bộ", official_id=1)
    await ctx.store.cases.add_note(case.id, "nội bộ: thiếu nhựa đường", official_id=1)
    open_rows = await (await client.get("/open311/v2/requests.json?status=open")).json()
    assert [r["service_request_id"] for r in open_rows] == [code]
    assert open_rows[0]["agency_responsible"] == "Đội duy tu đường bộ"
    assert open_rows[0]["status_notes"] is None  # internal notes never leak
    clock.advance(hours=5)
    await ctx.store.cases.set_status(case.id, "resolved", official_id=1, note="Đã vá xong, liên hệ 0912345678")
    closed = await (await client.get("/open311/v2/requests.json?status=closed")).json()
    assert [r["service_request_id"] for r in closed] == [code]
    assert closed[0]["status"] == "closed" and closed[0]["status_notes"] == "Đã vá xong, liên hệ ***"
    assert closed[0]["updated_datetime"] == "2026-01-05T15:00:00+07:00"
    assert await (await client.get("/open311/v2/requests.json?status=open")).json() == []

    other = await _file(client, "traffic_roads", **HUE, email="c@d.vn")
    other_case = await ctx.store.cases.get_by_code(other)
    assert other_case is not None
    await ctx.store.cases.merge(other_case.id, case.id, official_id=1)
    [merged] = await (await client.get(f"/open311/v2/requests/{other}.json")).json()
    assert merged["status"] == "closed" and code in merged["status_notes"]


async def test_anonymous_requests_are_redacted(client: TestClient[Any, Any], ctx: AppContext) -> None:
    anon = await _file(client, "environment_waste", **HUE)
    named = await _file(client, "environment_waste", **HUE, email="a@b.vn")
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    for code in (anon, named):
        case = await ctx.store.cases.get_by_code(code)
        assert case is not None
        await ctx.store.cases.add_attachments(case.id, [Media(kind="photo", data=png, mime="image/png")])
    rows = {r["service_request_id"]: r for r in await (await client.get("/open311/v2/requests.json")).json()}
    assert rows[anon]["lat"] == 16.464 and rows[anon]["long"] == 107.591 and rows[anon]["media_url"] is None
    assert rows[named]["lat"] == 16.4637123
    url = rows[named]["media_url"]
    assert url.startswith("https://tiengdan.example.vn/media/") and len(url.rsplit("/", 1)[1]) == 64
