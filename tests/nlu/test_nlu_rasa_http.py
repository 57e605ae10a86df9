"""`POST /model/parse` served by Tiếng Dân, driven like a Rasa client would."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from integrations.rasa_http import add_routes
from nlu import EmbeddedNLU, ParseResult

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def client(embedded: EmbeddedNLU, aiohttp_client: Callable[[web.Application], Awaitable[Client]]) -> Client:
    app = web.Application()
    add_routes(app, embedded)
    return await aiohttp_client(app)


async def test_parse_returns_rasa_shape_plus_category(client: Client) -> None:
    resp = await client.post("/model/parse", json={"text": "đường ngập ở phường Hồng Hà", "message_id": "m1"})
    assert resp.status == 200
    body = await resp.json()
    assert set(body) == {"text", "intent", "entities", "intent_ranking", "category"}
    assert body["text"] == "đường ngập ở phường Hồng Hà"
    assert body["intent"]["name"] == "file_feedback"
    assert 0 < body["intent"]["confidence"] <= 1
    assert body["category"]["name"] == "flooding_drainage"
    assert body["intent_ranking"][0]["name"] == "file_feedback"
    [area] = body["entities"]
    assert {k: area[k] for k in ("entity", "start", "end", "value")} == {
        "entity": "area", "start": 13, "end": 27, "value": "Phường Hồng Hà",
    }  # fmt: skip
    assert "confidence_entity" in area and "extractor" in area


async def test_small_talk_has_null_category(client: Client) -> None:
    body = await (await client.post("/model/parse", json={"text": "xin chào"})).json()
    assert body["intent"]["name"] == "greet"
    assert body["category"] is None


@pytest.mark.parametrize(
    ("data", "headers"),
    [
        (b"{not json", {"Content-Type": "application/json"}),
        (b"\xff\xfe", {"Content-Type": "application/json"}),
        (b"", {}),
        (b"[1, 2]", {}),
        (b'{"message": "hi"}', {}),
        (b'{"text": 42}', {}),
        (b'{"text": null}', {}),
        (b'{"text": ["a"]}', {}),
    ],
)
async def test_bad_requests_get_rasa_error_shape(client: Client, data: bytes, headers: dict[str, str]) -> None:
    resp = await client.post("/model/parse", data=data, headers=headers)
    assert resp.status == 400
    body = await resp.json()
    assert set(body) == {"version", "status", "message", "reason", "code"}
    assert body["status"] == "failure" and body["code"] == 400 and body["reason"] == "BadRequest"


@pytest.mark.parametrize("text", ["", "🙂", "x" * 10_000, "<b>DROP TABLE</b>"])
async def test_odd_texts_are_answered(client: Client, text: str) -> None:
    resp = await client.post("/model/parse", json={"text": text})
    assert resp.status == 200
    body = await resp.json()
    assert body["text"] == text
    assert body["intent"]["name"] == "nlu_fallback"


async def test_nlu_failure_is_503_not_500(aiohttp_client: Callable[[web.Application], Awaitable[Client]]) -> None:
    class Broken:
        async def parse(self, text: str) -> ParseResult:
            raise RuntimeError("model exploded")

    app = web.Application()
    add_routes(app, Broken())
    client = await aiohttp_client(app)
    resp = await client.post("/model/parse", json={"text": "xin chào"})
    assert resp.status == 503
    body: dict[str, Any] = await resp.json()
    assert body["status"] == "failure" and body["code"] == 503
