"""Service discovery: one service per feedback category, JSON and XML, both languages."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from aiohttp.test_utils import TestClient

from dialogs.citizen.common import CATEGORIES


async def test_services_json_lists_every_category_in_vietnamese(client: TestClient[Any, Any]) -> None:
    response = await client.get("/open311/v2/services.json")
    assert response.status == 200
    services = await response.json()
    assert [s["service_code"] for s in services] == list(CATEGORIES)
    roads = services[0]
    assert roads == {
        "service_code": "traffic_roads", "service_name": "Đường sá, giao thông",
        "description": "Ổ gà, sụt lún, đèn giao thông, biển báo, vỉa hè.", "metadata": False,
        "type": "realtime", "keywords": "đường,ổ gà,đèn giao thông,vỉa hè", "group": "Hạ tầng",
    }


async def test_services_xml_in_english(client: TestClient[Any, Any]) -> None:
    response = await client.get("/open311/v2/services.xml?locale=en")
    assert response.status == 200 and response.content_type == "text/xml"
    root = ET.fromstring(await response.text())
    assert root.tag == "services"
    services = root.findall("service")
    assert len(services) == len(CATEGORIES)
    health = next(s for s in services if s.findtext("service_code") == "health")
    assert health.findtext("service_name") == "Health"
    assert health.findtext("type") == "realtime" and health.findtext("metadata") == "false"
    assert health.findtext("group") == "Community, safety"


async def test_service_definition_json_and_xml(client: TestClient[Any, Any]) -> None:
    response = await client.get("/open311/v2/services/health.json")
    assert response.status == 200
    assert await response.json() == {"service_code": "health", "attributes": []}
    response = await client.get("/open311/v2/services/health.xml")
    root = ET.fromstring(await response.text())
    assert root.tag == "service_definition" and root.findtext("service_code") == "health"
    attributes = root.find("attributes")
    assert attributes is not None and len(attributes) == 0


async def test_unknown_service_and_format_are_spec_errors(client: TestClient[Any, Any]) -> None:
    response = await client.get("/open311/v2/services/potholes.json")
    assert response.status == 404
    body = await response.json()
    assert body[0]["code"] == 404 and "potholes" in body[0]["description"]
    response = await client.get("/open311/v2/services/potholes.xml?locale=en")
    root = ET.fromstring(await response.text())
    assert response.status == 404 and root.tag == "errors"
    assert root.findtext("error/code") == "404"
    assert root.findtext("error/description") == "There is no service potholes."
    response = await client.get("/open311/v2/services.html")
    assert response.status == 404 and (await response.json())[0]["code"] == 404
