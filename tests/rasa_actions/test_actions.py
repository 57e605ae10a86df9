"""A Rasa bot files and checks cases in our store through the action-server protocol."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.clock import FixedClock
from bot.context import AppContext
from bot.store import Store
from tests.harness import app_client, context_for


@pytest.fixture
async def ctx(store: Store, clock: FixedClock, tmp_path: Path) -> AsyncIterator[AppContext]:
    async with context_for(store, clock, media_dir=tmp_path / "media") as context:
        yield context


@pytest.fixture
async def client(ctx: AppContext, aiohttp_client: Any) -> TestClient[Any, Any]:
    return await app_client(ctx, aiohttp_client)


def action_call(action: str, sender: str, *, slots: dict[str, Any] | None = None, text: str = "",
                intent: str = "file_feedback", entities: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The JSON Rasa 3.6 posts to an action server."""
    return {
        "next_action": action,
        "sender_id": sender,
        "version": "3.6.21",
        "tracker": {
            "sender_id": sender,
            "slots": slots or {},
            "latest_message": {"text": text, "intent": {"name": intent, "confidence": 0.93},
                               "entities": entities or [], "intent_ranking": []},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
        "domain": {"slots": {}, "responses": {}, "actions": [action]},
    }


async def post(client: TestClient[Any, Any], body: Any) -> tuple[int, Any]:
    response = await client.post("/rasa/webhook", json=body)
    return response.status, await response.json()


async def test_file_then_check_a_case(client: TestClient[Any, Any], store: Store) -> None:
    status, body = await post(client, action_call(
        "action_file_case", "rasa-user-1", text="Cống bị tắc, nước tràn ra đường",
        slots={"consent": True, "category": "flooding_drainage", "area": "Vỹ Dạ, Huế"}))
    assert status == 200
    [slot] = [e for e in body["events"] if e["event"] == "slot" and e["name"] == "case_code"]
    code = slot["value"]
    assert "Mã phản ánh" in body["responses"][0]["text"]
    case = await store.cases.get_by_code(code)
    assert case is not None and case.category == "flooding_drainage" and case.source_channel == "rasa"
    assert case.description == "Cống bị tắc, nước tràn ra đường" and case.area_name == "Phường Vỹ Dạ"
    assert case.ack_due_at is not None

    status, body = await post(client, action_call("action_check_case_status", "rasa-user-1",
                                                  text=f"mã {case.display_code} sao rồi", intent="check_status"))
    assert status == 200 and "Cập nhật" in body["responses"][0]["text"]
    assert {"event": "slot", "name": "case_status", "value": "received"}.items() <= body["events"][-1].items()

    _, other = await post(client, action_call("action_check_case_status", "someone-else",
                                              slots={"case_code": code}, intent="check_status"))
    assert "Cập nhật" not in other["responses"][0]["text"] and case.display_code in other["responses"][0]["text"]


async def test_refusals_and_bad_requests(client: TestClient[Any, Any], store: Store) -> None:
    _, body = await post(client, action_call("action_file_case", "u2", text="đường hỏng",
                                             slots={"category": "traffic_roads"}))
    assert body["events"] == [] and "đồng ý" in body["responses"][0]["text"]
    _, body = await post(client, action_call("action_file_case", "u2", text="abc", intent="greet",
                                             slots={"consent": True}))
    assert body["events"] == [] and "loại nào" in body["responses"][0]["text"]
    _, body = await post(client, action_call("action_check_case_status", "u2", text="mã 1234 5678"))
    assert "8 số" in body["responses"][0]["text"] or "Không tìm thấy" in body["responses"][0]["text"]
    status, body = await post(client, action_call("action_unknown", "u2"))
    assert status == 404 and body["action_name"] == "action_unknown"
    response = await client.post("/rasa/webhook", data=b"{not json")
    assert response.status == 400
    status, _ = await post(client, {"next_action": "action_file_case"})
    assert status == 400
    assert await store.cases.count() == 0


async def test_category_from_the_nlu_and_english(client: TestClient[Any, Any]) -> None:
    call = action_call("action_file_case", "u3", text="trash everywhere", intent="category_environment_waste",
                       slots={"consent": True, "locale": "en", "latitude": 16.4637, "longitude": 107.5909})
    status, body = await post(client, call)
    assert status == 200 and body["responses"][0]["text"].startswith("✅ Sent!")


async def test_actions_are_listed(client: TestClient[Any, Any]) -> None:
    response = await client.get("/rasa/actions")
    names = {item["name"] for item in await response.json()}
    assert names == {"action_file_case", "action_check_case_status"}
