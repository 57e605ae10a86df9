"""Citizens and channel identities, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from sqlalchemy import func, select

from bot.clock import FixedClock
from bot.errors import InvalidInput, NotFound
from bot.store import UNSET, Store
from bot.store.models import ChannelIdentity, Citizen
from bot.store.phone import normalize_phone


async def test_first_contact_creates_citizen_and_identity(store: Store, clock: FixedClock) -> None:
    info = await store.citizens.get_or_create("zalo", "z-1", display_name="Lan", locale="en")

    assert info.locale == "en"
    assert info.display_name == "Lan"
    assert not info.has_consent
    assert [(i.channel, i.channel_user_id) for i in info.identities] == [("zalo", "z-1")]
    assert info.identities[0].last_interaction_at == clock.now()
    assert info.last_seen_at == clock.now()


async def test_returning_user_is_the_same_citizen_and_is_touched(store: Store, clock: FixedClock) -> None:
    first = await store.citizens.get_or_create("telegram", "100", locale="vi")
    clock.advance(hours=3)
    again = await store.citizens.get_or_create("telegram", "100", locale="en", display_name="Minh")

    assert again.id == first.id
    assert again.locale == "vi", "a stored locale is never overridden by a hint"
    assert again.last_seen_at == clock.now()
    assert again.identities[0].last_interaction_at == clock.now()
    assert again.identities[0].display_name == "Minh"


async def test_twenty_concurrent_first_messages_make_one_citizen(store: Store) -> None:
    results = await asyncio.gather(*(store.citizens.get_or_create("webchat", "u-race") for _ in range(20)))

    assert len({r.id for r in results}) == 1
    async with store.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(ChannelIdentity)) == 1
        assert await s.scalar(select(func.count()).select_from(Citizen)) == 1


async def test_update_changes_only_given_fields(store: Store) -> None:
    c = await store.citizens.get_or_create("zalo", "z-2", display_name="Hoa")
    hue = await store.areas.by_code("46")
    assert hue is not None

    c = await store.citizens.update(c.id, home_area_id=hue.id, anonymous=True)
    assert (c.home_area_id, c.anonymous, c.display_name, c.locale) == (hue.id, True, "Hoa", "vi")

    c = await store.citizens.update(c.id, locale="en", home_area_id=None)
    assert (c.home_area_id, c.anonymous, c.locale) == (None, True, "en")

    assert UNSET is not None
    with pytest.raises(NotFound):
        await store.citizens.update(999_999, locale="en")


async def test_consent_is_recorded_with_version_and_time(store: Store, clock: FixedClock) -> None:
    c = await store.citizens.get_or_create("telegram", "7")
    clock.advance(minutes=5)
    c = await store.citizens.record_consent(c.id, "2025-07")

    assert c.has_consent
    assert (c.consent_version, c.consent_at) == ("2025-07", clock.now())
    assert (await store.citizens.get(c.id)) == c


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("0912 345 678", "+84912345678"),
        ("+84-912-345-678", "+84912345678"),
        ("84912345678", "+84912345678"),
        ("0084 912 345 678", "+84912345678"),
        ("(024) 3825 1234", "+842438251234"),
    ],
)
def test_phone_normalisation(raw: str, e164: str) -> None:
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize("raw", ["", "abc", "12", "0912 345", "+84 1234 5678 9012 34"])
def test_bad_phone_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput):
        normalize_phone(raw)


async def test_verified_phone_is_stored_only_as_salted_hash(store: Store) -> None:
    c = await store.citizens.set_verified_phone((await store.citizens.get_or_create("zalo", "z-3")).id, "0912 345 678")
    assert c.phone_verified

    async with store.sessionmaker() as s:
        row = await s.get_one(Citizen, c.id)
    assert row.phone_hash is not None
    assert "912345678" not in row.phone_hash
    assert row.phone_hash != hashlib.sha256(b"+84912345678").hexdigest(), "must be salted"
    assert row.phone_hash == store.citizens.phone_hash("+84 912 345 678")


async def test_find_by_phone_links_the_same_person_across_channels(store: Store) -> None:
    zalo = await store.citizens.get_or_create("zalo", "z-4")
    await store.citizens.set_verified_phone(zalo.id, "+84912000111")
    tg = await store.citizens.get_or_create("telegram", "444")

    found = await store.citizens.find_by_phone("0912 000 111", exclude_citizen_id=tg.id)
    assert found is not None and found.id == zalo.id
    assert await store.citizens.find_by_phone("0912000111", exclude_citizen_id=zalo.id) is None
    assert await store.citizens.find_by_phone("0988 777 666") is None

    moved = await store.citizens.link_identity(zalo.id, "telegram", "444")
    assert moved.citizen_id == zalo.id
    merged = await store.citizens.get(zalo.id)
    assert merged is not None
    assert {(i.channel, i.channel_user_id) for i in merged.identities} == {("zalo", "z-4"), ("telegram", "444")}
    assert await store.citizens.identities(tg.id) == []
    again = await store.citizens.get_or_create("telegram", "444")
    assert again.id == zalo.id


async def test_link_identity_creates_a_new_account_link(store: Store) -> None:
    c = await store.citizens.get_or_create("zalo", "z-5")
    ident = await store.citizens.link_identity(c.id, "webchat", "browser-1")

    assert (ident.citizen_id, ident.channel) == (c.id, "webchat")
    assert await store.citizens.identity_for("webchat", "browser-1") == ident
    with pytest.raises(NotFound):
        await store.citizens.link_identity(999_999, "webchat", "browser-2")


async def test_unreachable_until_the_user_writes_again(store: Store, clock: FixedClock) -> None:
    await store.citizens.get_or_create("zalo", "z-6")
    assert await store.citizens.mark_unreachable("zalo", "z-6")
    ident = await store.citizens.identity_for("zalo", "z-6")
    assert ident is not None and not ident.reachable and ident.unreachable_at == clock.now()

    clock.advance(days=2)
    assert await store.citizens.touch_identity("zalo", "z-6")
    ident = await store.citizens.identity_for("zalo", "z-6")
    assert ident is not None and ident.reachable and ident.last_interaction_at == clock.now()

    assert not await store.citizens.mark_unreachable("zalo", "nobody")
    assert not await store.citizens.touch_identity("zalo", "nobody")
    assert await store.citizens.identity_for("zalo", "nobody") is None
    assert await store.citizens.get(123_456) is None


async def test_reads_neither_wait_for_a_writer_nor_see_its_uncommitted_change(store: Store) -> None:
    c = await store.citizens.get_or_create("zalo", "z-7", display_name="Mai")
    async with store.citizens.session() as s:
        (await s.get_one(Citizen, c.id)).display_name = "Mai Anh"
        await s.flush()
        during = await asyncio.wait_for(store.citizens.get(c.id), timeout=5)
        assert during is not None and during.display_name == "Mai"
    after = await store.citizens.get(c.id)
    assert after is not None and after.display_name == "Mai Anh"
