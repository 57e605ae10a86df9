"""Cases: creation with media, codes, lookup, timeline, listing; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from bot import casecode
from bot.clock import FixedClock
from bot.errors import Conflict, InvalidInput, NotFound
from bot.messages import Media
from bot.store import CitizenInfo, Store
from bot.store.cases import CaseRepo
from bot.store.models import Case

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x01" * 200
OGG = b"OggS\x00\x02" + b"\x00" * 100


@pytest.fixture
async def citizen(store: Store) -> CitizenInfo:
    return await store.citizens.get_or_create("telegram", "1001", display_name="An")


async def _file(store: Store, citizen: CitizenInfo, **kwargs: object) -> object:
    values: dict[str, object] = {
        "category": "flooding_drainage",
        "description": "Đường ngập sau mưa",
        "area_id": None,
        "lat": None,
        "lon": None,
        "anonymous": False,
        "channel": "telegram",
    }
    values.update(kwargs)
    return await store.cases.create(citizen.id, **values)  # type: ignore[arg-type]


async def test_create_with_photo_and_a_failed_voice_note(store: Store, citizen: CitizenInfo, clock) -> None:
    ward = await store.areas.by_code("26740")  # Phường Sài Gòn
    assert ward is not None
    saved = await store.media.save(Media(kind="photo", data=JPEG, source_ref="tg-file-1"))

    case = await store.cases.create(
        citizen.id,
        category="flooding_drainage",
        description="Đường ngập sau mưa",
        area_id=ward.id,
        lat=10.776,
        lon=106.701,
        anonymous=True,
        channel="telegram",
        media=[saved, Media(kind="voice", source_ref="tg-file-2", error="download_timeout")],
        priority="urgent",
    )

    assert casecode.is_valid(case.code)
    assert (case.status, case.priority, case.anonymous, case.area_name) == (
        "received",
        "urgent",
        True,
        "Phường Sài Gòn",
    )
    assert case.created_at == clock.now()
    photo, voice = await store.cases.attachments(case.id)
    assert (photo.kind, photo.sha256, photo.mime, photo.size, photo.source_ref) == (
        "photo",
        saved.sha256,
        "image/jpeg",
        len(JPEG),
        "tg-file-1",
    )
    assert photo.stored and (await store.media.open(photo.sha256 or "")) == JPEG
    assert (voice.kind, voice.sha256, voice.note, voice.source_ref) == ("voice", None, "download_timeout", "tg-file-2")
    assert not voice.stored


async def test_raw_media_is_saved_and_rejected_media_keeps_the_report(store: Store, citizen: CitizenInfo) -> None:
    case = await _file(
        store,
        citizen,
        media=[Media(kind="voice", data=OGG), Media(kind="photo", data=b"MZ\x90\x00 not an image")],
    )
    voice, bad = await store.cases.attachments(case.id)  # type: ignore[attr-defined]
    assert voice.mime == "audio/ogg" and voice.stored
    assert bad.note == "rejected:not_image" and not bad.stored
    assert await store.cases.get(case.id) == case  # type: ignore[attr-defined]


async def test_codes_are_valid_unique_and_found_in_any_spelling(store: Store, citizen: CitizenInfo) -> None:
    cases = await asyncio.gather(*(_file(store, citizen) for _ in range(15)))
    codes = [c.code for c in cases]  # type: ignore[attr-defined]
    assert len(set(codes)) == 15
    assert all(len(c) == 8 and c.isdigit() and casecode.is_valid(c) for c in codes)

    case = cases[0]
    code = case.code  # type: ignore[attr-defined]
    for spelling in (code, f"{code[:4]} {code[4:]}", f"{code[:4]}-{code[4:]}", f"mã {code[:4]}.{code[4:]} ạ"):
        found = await store.cases.get_by_code(spelling)
        assert found is not None and found.id == case.id  # type: ignore[attr-defined]
    typo = code[:-1] + str((int(code[-1]) + 1) % 10)
    assert await store.cases.get_by_code(typo) is None
    assert await store.cases.get_by_code("hello") is None


async def test_a_code_collision_is_retried(store: Store, citizen: CitizenInfo, clock: FixedClock) -> None:
    first = await _file(store, citizen)
    taken = first.code  # type: ignore[attr-defined]
    fresh = "1234567" + str(casecode.damm_digit("1234567"))
    assert casecode.is_valid(fresh)

    def codes() -> Iterator[str]:
        yield taken
        yield taken
        yield fresh

    gen = codes()
    repo = CaseRepo(store.sessionmaker, clock, store.media, code_factory=lambda: next(gen))
    case = await repo.create(
        citizen.id,
        category="other",
        description=None,
        area_id=None,
        lat=None,
        lon=None,
        anonymous=False,
        channel="webchat",
    )
    assert case.code == fresh


async def test_create_refuses_unknown_citizen_area_or_priority(store: Store, citizen: CitizenInfo) -> None:
    with pytest.raises(NotFound):
        await store.cases.create(
            999_999,
            category="other",
            description=None,
            area_id=None,
            lat=None,
            lon=None,
            anonymous=False,
            channel="zalo",
        )
    with pytest.raises(NotFound):
        await _file(store, citizen, area_id=987_654_321)
    with pytest.raises(InvalidInput):
        await _file(store, citizen, priority="whenever")
    assert await store.cases.count() == 0


async def test_timeline_hides_internal_notes_from_citizens(store: Store, citizen: CitizenInfo, clock) -> None:
    case = await _file(store, citizen)
    case_id = case.id  # type: ignore[attr-defined]
    clock.advance(hours=1)
    await store.cases.add_event(case_id, kind="note", actor_type="official", actor_id=5, body="gọi lại", public=False)
    clock.advance(hours=1)
    reply = await store.cases.add_event(case_id, kind="reply", actor_type="official", actor_id=5, body="Đã nhận")

    public = await store.cases.timeline(case_id)
    assert [(e.kind, e.to_status) for e in public] == [("created", "received"), ("reply", None)]
    assert public[-1] == reply and reply.created_at == clock.now()
    everything = await store.cases.timeline(case_id, include_internal=True)
    assert [e.kind for e in everything] == ["created", "note", "reply"]
    with pytest.raises(NotFound):
        await store.cases.add_event(424242, kind="note", actor_type="system")


async def test_list_for_citizen_is_own_cases_newest_first(store: Store, citizen: CitizenInfo, clock) -> None:
    other = await store.citizens.get_or_create("zalo", "z-other")
    mine = []
    for _ in range(3):
        mine.append(await _file(store, citizen))
        clock.advance(minutes=1)
    await _file(store, other)

    listed = await store.cases.list_for_citizen(citizen.id)
    assert [c.id for c in listed] == [c.id for c in reversed(mine)]  # type: ignore[attr-defined]
    page2 = await store.cases.list_for_citizen(citizen.id, limit=2, offset=2)
    assert [c.id for c in page2] == [mine[0].id]  # type: ignore[attr-defined]


async def test_count_filters(store: Store, citizen: CitizenInfo, clock: FixedClock) -> None:
    hue = await store.areas.by_code("46")
    assert hue is not None
    ward = (await store.areas.communes(hue.id))[0]
    start = clock.now()
    await _file(store, citizen, area_id=ward.id, category="traffic_roads")
    clock.advance(days=1)
    await _file(store, citizen, priority="urgent", channel="zalo")

    assert await store.cases.count() == 2
    assert await store.cases.count(status="received") == 2
    assert await store.cases.count(status=["resolved", "closed"]) == 0
    assert await store.cases.count(category="traffic_roads") == 1
    assert await store.cases.count(area_ids=await store.areas.descendants_ids(hue.id)) == 1
    assert await store.cases.count(priority="urgent", channel="zalo") == 1
    assert await store.cases.count(since=start + (clock.now() - start) / 2) == 1
    assert await store.cases.count(citizen_id=citizen.id) == 2


async def test_a_stale_version_conflicts_instead_of_overwriting(store: Store, citizen: CitizenInfo) -> None:
    """The unit of work feature code reuses: `Case.version` is an optimistic lock."""
    case = await _file(store, citizen)
    case_id = case.id  # type: ignore[attr-defined]
    async with store.cases.read() as s:
        stale = await s.get_one(Case, case_id)  # detached at version 1 when the session ends

    async with store.cases.session() as s:
        (await s.get_one(Case, case_id)).status = "acknowledged"

    with pytest.raises(Conflict):
        async with store.cases.session() as s:
            s.add(stale)
            stale.status = "rejected"

    fresh = await store.cases.get(case_id)
    assert fresh is not None and (fresh.status, fresh.version) == ("acknowledged", 2)
