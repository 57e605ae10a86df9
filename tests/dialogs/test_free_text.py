"""Free text outside a dialog is routed by the NLU; low confidence gets buttons, never a guess."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.clock import FixedClock
from bot.engine import Engine
from bot.store import Store
from nlu import EmbeddedNLU
from tests.dialogs.test_report_flow import onboard
from tests.harness import Chat, make_context, make_engine


@pytest.fixture(scope="session")
def trained_nlu(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedNLU:
    return EmbeddedNLU.load(tmp_path_factory.mktemp("nlu-model"))


@pytest.fixture
async def nlu_engine(store: Store, clock: FixedClock, trained_nlu: EmbeddedNLU) -> AsyncIterator[Engine]:
    ctx = make_context(store, clock, nlu=trained_nlu)
    yield make_engine(ctx)


async def test_problem_in_free_text_preselects_category(nlu_engine: Engine, store: Store) -> None:
    chat = Chat(nlu_engine, "web", "typist")
    await onboard(chat)
    await chat.say("duong o truoc nha bi ngap nuoc sau, xe may ko di dc")
    assert "Có phải về" in chat.last_text
    assert "Ngập" in chat.last_text or "Đường sá" in chat.last_text
    await chat.tap("Đúng")
    # the typed text is already the description: straight on to photos
    assert "ảnh" in chat.last_text
    await chat.tap("Không có ảnh")
    await chat.location(21.0285, 105.8542)
    await chat.tap("Gửi")
    citizen = await store.citizens.get_or_create("web", "typist")
    [case] = await store.cases.list_for_citizen(citizen.id)
    assert case.description == "duong o truoc nha bi ngap nuoc sau, xe may ko di dc"
    assert case.category in ("flooding_drainage", "traffic_roads")


async def test_greeting_and_gibberish(nlu_engine: Engine) -> None:
    chat = Chat(nlu_engine, "web", "talker")
    await onboard(chat)
    await chat.say("chào bạn")
    assert "Xin chào" in chat.last_text
    await chat.say("🙂🙂🙂")
    assert "chưa hiểu" in chat.last_text
    assert chat.buttons  # buttons instead of a guess


async def test_check_status_intent(nlu_engine: Engine) -> None:
    chat = Chat(nlu_engine, "web", "asker")
    await onboard(chat)
    await chat.say("phan anh cua toi sao roi")
    assert "chưa có phản ánh" in chat.last_text or "Phản ánh của bạn" in chat.last_text
