"""Who may do what, where: roles, jurisdiction, refusals (polite and audited), bad input."""

from __future__ import annotations

import asyncio

import pytest

from bot import casecode
from bot.context import AppContext
from bot.engine import Engine
from bot.errors import Conflict
from bot.store import Store
from bot.store.caseflow import BadTransition
from tests.harness import Chat
from tests.officials.conftest import HOAN_KIEM, HUE, THUAN_HOA, deliveries, new_case

ROLE_MATRIX = [
    # (role, command template, allowed)
    ("official", "/ack {code}", True),
    ("official", "/reply {code} Đã nhận", True),
    ("official", "/audit {code}", False),
    ("official", "/invite official 46", False),
    ("front", "/case {code}", True),
    ("front", "/audit {code}", True),
    ("front", "/ack {code}", False),
    ("front", "/reply {code} xin chào", False),
    ("front", "/status {code} resolved", False),
    ("moderator", "/ack {code}", True),
    ("moderator", "/note {code} spam?", True),
    ("moderator", "/reply {code} xin chào", False),
    ("moderator", "/assign {code} Đội A", False),
    ("admin", "/status {code} rejected Không thuộc thẩm quyền", True),
    ("admin", "/audit {code}", True),
]


@pytest.mark.parametrize(("role", "template", "allowed"), ROLE_MATRIX)
async def test_role_matrix(engine: Engine, store: Store, role: str, template: str, allowed: bool) -> None:
    case = await new_case(store)
    await store.officials.add(channel="telegram", channel_user_id="500", role=role, unit="Phường", area_codes=[HUE])
    chat = Chat(engine, "telegram", "500")
    command = template.format(code=case.display_code)
    await chat.say(command)
    action = command.split()[0][1:]
    entries = [a for a in await store.audit.recent() if a.action == action]
    if allowed:
        assert "🔒" not in chat.last_text
        assert entries and entries[0].allowed
    else:
        assert "không dùng được lệnh" in chat.last_text
        assert entries and not entries[0].allowed and entries[0].detail["reason"] == "role"


async def test_non_official_is_refused_politely_and_audited(engine: Engine, store: Store) -> None:
    case = await new_case(store)
    chat = Chat(engine, "telegram", "999")
    for command in ("/inbox", f"/ack {case.code}", f"/status {case.code} resolved", "/stats"):
        await chat.say(command)
        assert "chỉ dành cho cán bộ" in chat.last_text
    refused = [a for a in await store.audit.recent() if not a.allowed]
    assert {a.action for a in refused} == {"inbox", "ack", "status", "stats"}
    assert all(a.channel_user_id == "999" and a.detail["reason"] == "not_official" for a in refused)
    assert (await store.cases.get(case.id)).status == "received"  # type: ignore[union-attr]


async def test_jurisdiction_province_covers_communes_but_not_other_provinces(engine: Engine, store: Store) -> None:
    hue_case = await new_case(store, user="a", area_code=THUAN_HOA)
    hanoi_case = await new_case(store, user="b", area_code=HOAN_KIEM)
    await store.officials.add(channel="telegram", channel_user_id="1", role="official", unit="Tỉnh", area_codes=[HUE])
    await store.officials.add(channel="telegram", channel_user_id="2", role="official", unit="Phường",
                              area_codes=[HOAN_KIEM])
    province, hanoi = Chat(engine, "telegram", "1"), Chat(engine, "telegram", "2")
    await province.say("/inbox")
    listed = " ".join(province.labels())
    assert hue_case.display_code in listed and hanoi_case.display_code not in listed
    await hanoi.say(f"/case {hue_case.display_code}")
    assert "không thuộc địa bàn" in hanoi.last_text
    await hanoi.say(f"/ack {hue_case.code}")
    assert "không thuộc địa bàn" in hanoi.last_text
    assert (await store.cases.get(hue_case.id)).status == "received"  # type: ignore[union-attr]
    refused = [a for a in await store.audit.for_target(hue_case.code) if not a.allowed]
    assert [a.detail["reason"] for a in refused] == ["jurisdiction", "jurisdiction"]
    await hanoi.say(f"/inbox {HUE}")
    assert "không thuộc địa bàn" in hanoi.last_text


async def test_category_limits(engine: Engine, store: Store) -> None:
    roads = await new_case(store, user="a", category="traffic_roads")
    health = await new_case(store, user="b", category="health")
    await store.officials.add(channel="web", channel_user_id="yte", role="official", unit="Trạm y tế",
                              area_codes=[HUE], categories=["health"])
    chat = Chat(engine, "web", "yte")
    await chat.say("/inbox")
    listed = " ".join(chat.labels())
    assert health.display_code in listed and roads.display_code not in listed
    await chat.say(f"/reply {roads.code} xin chào")
    assert "không thuộc địa bàn hoặc lĩnh vực" in chat.last_text


async def test_bad_input_gets_clear_answers_and_sends_nothing(engine: Engine, store: Store) -> None:
    case = await new_case(store)
    await store.officials.add(channel="telegram", channel_user_id="7", role="official", unit="U", area_codes=[HUE])
    chat = Chat(engine, "telegram", "7")
    await chat.say("/ack")
    assert "Cách dùng: /ack" in chat.last_text
    typo = case.code[:-1] + str((int(case.code[-1]) + 1) % 10)
    await chat.say(f"/ack {typo}")
    assert "gõ nhầm" in chat.last_text
    unknown = "1000000" + str(casecode.damm_digit("1000000"))
    await chat.say(f"/case {casecode.display(unknown)}")  # a valid check digit, no such case
    assert f"Không tìm thấy phản ánh {casecode.display(unknown)}" in chat.last_text
    await chat.say(f"/status {case.code} rejected")
    assert "cần ghi lý do" in chat.last_text
    await chat.say(f"/status {case.code} finished")
    assert "Cách dùng: /status" in chat.last_text
    await chat.say(f"/reply {case.code} " + "a" * 10_000)
    assert "tối đa 2000" in chat.last_text and "Chưa gửi gì" in chat.last_text
    await chat.say("/inbox nonsense")
    assert "Cách dùng: /inbox" in chat.last_text
    await chat.say(f"/merge {case.code} {case.code}")
    assert "chính nó" in chat.last_text
    await chat.say(f"/status {case.code} resolved")
    await chat.say(f"/ack {case.code}")
    assert "không chuyển sang" in chat.last_text
    assert len(await deliveries(store)) == 1  # only the "resolved" notice


async def test_stale_card_button_is_refused(engine: Engine, store: Store) -> None:
    case = await new_case(store)
    await store.officials.add(channel="telegram", channel_user_id="1", role="official", unit="U", area_codes=[HUE])
    await store.officials.add(channel="zalo", channel_user_id="2", role="official", unit="U", area_codes=[HUE])
    a, b = Chat(engine, "telegram", "1"), Chat(engine, "zalo", "2")
    await a.say(f"/case {case.code}")
    await b.say(f"/case {case.code}")
    await b.tap("Tiếp nhận")
    await a.tap("Tiếp nhận")  # the same button on an older card
    assert "vừa thay đổi" in a.last_text
    events = [e for e in await store.cases.timeline(case.id) if e.kind == "status"]
    assert len(events) == 1


async def test_two_officials_at_once_no_lost_update(store: Store) -> None:
    case = await new_case(store)
    results = await asyncio.gather(
        store.cases.acknowledge(case.id, official_id=1),
        store.cases.set_status(case.id, "rejected", official_id=2, note="spam"),
        return_exceptions=True,
    )
    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(failures) <= 1 and all(isinstance(f, (Conflict, BadTransition)) for f in failures)
    final = await store.cases.get(case.id)
    events = [e for e in await store.cases.timeline(case.id) if e.kind == "status"]
    assert final is not None and final.status == events[-1].to_status
    assert final.version == 1 + len(events)


async def test_invite_and_join(engine: Engine, store: Store, ctx: AppContext) -> None:
    await store.officials.add(channel="telegram", channel_user_id="admin", role="admin", unit="Sở", area_codes=[HUE])
    admin = Chat(engine, "telegram", "admin")
    await admin.say(f"/invite official {THUAN_HOA} UBND phường Thuận Hóa")
    [line] = [ln for ln in admin.last_text.splitlines() if ln.startswith("🎟️")]
    code = line.split(":")[1].strip()
    await admin.say(f"/invite official {HOAN_KIEM}")
    assert "không thuộc địa bàn" in admin.last_text

    newcomer = Chat(engine, "zalo", "84901")
    await newcomer.say("/inbox")
    assert "chỉ dành cho cán bộ" in newcomer.last_text
    await newcomer.say(f"/join {code.lower()}")
    assert "Chào mừng" in newcomer.last_text
    official = await store.officials.by_identity("zalo", "84901")
    assert official is not None and official.area_codes == (THUAN_HOA,) and official.unit == "UBND phường Thuận Hóa"
    await newcomer.say("/inbox")
    assert "Không có phản ánh" in newcomer.last_text

    thief = Chat(engine, "telegram", "666")
    await thief.say(f"/join {code}")
    assert "đã được dùng" in thief.last_text
    await thief.say("/join ZZZZZZZZ")
    assert "không đúng" in thief.last_text
    await admin.say("/invite front 46")
    late = next(ln for ln in admin.last_text.splitlines() if ln.startswith("🎟️")).split(":")[1].strip()
    ctx.clock.advance(hours=73)  # type: ignore[attr-defined]
    await thief.say(f"/join {late}")
    assert "hết hạn" in thief.last_text
    assert await store.officials.by_identity("telegram", "666") is None
    joins = [a for a in await store.audit.recent() if a.action == "join"]
    assert sorted(a.allowed for a in joins) == [False, False, False, True]


async def test_help_lists_only_permitted_commands(engine: Engine, store: Store) -> None:
    await store.officials.add(channel="telegram", channel_user_id="f", role="front", unit="MTTQ", area_codes=[HUE])
    front = Chat(engine, "telegram", "f")
    await front.say("/help")
    assert "/inbox" in front.last_text and "/audit" in front.last_text
    assert "/reply" not in front.last_text and "/invite" not in front.last_text
    citizen = Chat(engine, "telegram", "someone")
    await citizen.say("/help")
    assert "/inbox" not in citizen.last_text
