"""Against a real Rasa server trained on nlu/data (scripts/rasa_check.sh). Skipped unless configured."""

from __future__ import annotations

import os

import aiohttp
import pytest

from integrations.rasa_nlu import RasaHttpNLU
from nlu import EmbeddedNLU

RASA_URL = os.environ.get("TIENGDAN_TEST_RASA_URL")
pytestmark = pytest.mark.skipif(not RASA_URL, reason="TIENGDAN_TEST_RASA_URL not set (see scripts/rasa_check.sh)")


async def test_real_rasa_understands_our_data(embedded: EmbeddedNLU) -> None:
    assert RASA_URL is not None
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{RASA_URL}/model/parse", json={"text": "xin chào"}) as resp:
            body = await resp.json()
        assert {"text", "intent", "entities", "intent_ranking"} <= set(body)
        nlu = RasaHttpNLU(RASA_URL, timeout=5.0, fallback=embedded, session=session)
        assert (await nlu.parse("xin chào")).intent["name"] == "greet"
        feedback = await nlu.parse("rác thải bốc mùi hôi thối cả tuần nay")
        assert feedback.intent["name"] == "file_feedback"
        assert feedback.category is not None
        status = await nlu.parse("tra mã 1790 7829")
        assert any(e["entity"] == "case_code" for e in status.entities)
