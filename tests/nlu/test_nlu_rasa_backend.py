"""`RasaHttpNLU` against a local fake Rasa server: used when healthy, embedded fallback otherwise."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from integrations.rasa_nlu import RasaHttpNLU
from nlu import EmbeddedNLU

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]


class FakeRasa:
    """Answers `/model/parse` with whatever the test sets in `reply` (dict, status int, or 'slow')."""

    def __init__(self) -> None:
        self.reply: Any = None
        self.requests: list[dict[str, Any]] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(await request.json())
        if self.reply == "slow":
            await asyncio.sleep(2)
        if isinstance(self.reply, int):
            return web.json_response({"status": "failure", "code": self.reply}, status=self.reply)
        if isinstance(self.reply, str) and self.reply != "slow":
            return web.Response(text=self.reply, content_type="application/json")
        return web.json_response(self.reply)


def rasa_answer(text: str, intent: str, confidence: float = 0.93, **extra: Any) -> dict[str, Any]:
    return {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": [{"entity": "phone", "start": 0, "end": 10, "value": "0912345678", "extractor": "Regex"}],
        "intent_ranking": [{"name": intent, "confidence": confidence}, {"name": "greet", "confidence": 0.01}],
        "text_tokens": [[0, 3]],
        **extra,
    }


@pytest.fixture
async def fake() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
async def rasa(fake: FakeRasa, embedded: EmbeddedNLU, aiohttp_server: ServerFactory) -> AsyncIterator[RasaHttpNLU]:
    app = web.Application()
    app.router.add_post("/model/parse", fake.handle)
    server = await aiohttp_server(app)
    async with aiohttp.ClientSession() as session:
        yield RasaHttpNLU(str(server.make_url("/")), timeout=0.5, fallback=embedded, session=session)


async def test_rasa_answer_is_used(rasa: RasaHttpNLU, fake: FakeRasa) -> None:
    fake.reply = rasa_answer("0912345678 chào", "greet")
    result = await rasa.parse("0912345678 chào")
    assert fake.requests == [{"text": "0912345678 chào"}]
    assert result.intent == {"name": "greet", "confidence": 0.93}
    assert result.entities[0]["value"] == "0912345678"
    assert result.entities[0]["confidence_entity"] == 1.0
    assert result.category is None


async def test_feedback_from_rasa_gets_the_embedded_category(rasa: RasaHttpNLU, fake: FakeRasa) -> None:
    fake.reply = rasa_answer("rác thải bốc mùi", "file_feedback")
    result = await rasa.parse("rác thải bốc mùi")
    assert result.intent["name"] == "file_feedback"
    assert result.category is not None and result.category["name"] == "environment_waste"


async def test_category_intents_from_rasa_are_mapped(rasa: RasaHttpNLU, fake: FakeRasa) -> None:
    fake.reply = rasa_answer("mất điện", "category_utilities_power_water", 0.8)
    result = await rasa.parse("mất điện")
    assert result.intent == {"name": "file_feedback", "confidence": 0.8}
    assert result.category == {"name": "utilities_power_water", "confidence": 0.8}


async def test_out_of_scope_and_null_intent_become_fallback(rasa: RasaHttpNLU, fake: FakeRasa) -> None:
    fake.reply = rasa_answer("hihi", "out_of_scope")
    assert (await rasa.parse("hihi")).intent["name"] == "nlu_fallback"
    fake.reply = {"text": "", "intent": {"name": None, "confidence": 0.0}, "entities": []}
    assert (await rasa.parse("")).intent == {"name": "nlu_fallback", "confidence": 0.0}


@pytest.mark.parametrize(
    "reply",
    [
        500,
        404,
        "slow",
        "not json at all",
        {"intent": "greet"},
        {"intent": {"name": 5, "confidence": 1}},
        {"intent": {"name": "greet", "confidence": "high"}},
        {"intent": {"name": "greet", "confidence": 1}, "entities": [{"entity": "x"}]},
        [],
    ],
)
async def test_failures_fall_back_to_embedded(
    rasa: RasaHttpNLU, fake: FakeRasa, reply: Any, caplog: pytest.LogCaptureFixture
) -> None:
    fake.reply = reply
    result = await rasa.parse("xin chào")
    assert result.intent["name"] == "greet"  # the embedded recognizer answered
    assert result.intent_ranking[1]["name"] != "greet"  # not the fake's ranking
    assert "using the embedded NLU" in caplog.text


async def test_unreachable_rasa_falls_back(embedded: EmbeddedNLU, unused_tcp_port: int) -> None:
    nlu = RasaHttpNLU(f"http://127.0.0.1:{unused_tcp_port}", timeout=0.5, fallback=embedded)
    try:
        result = await nlu.parse("cảm ơn nhiều")
    finally:
        await nlu.close()
    assert result.intent["name"] == "thank"
