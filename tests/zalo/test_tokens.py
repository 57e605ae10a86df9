"""The rotating token pair: refresh on -216, persisted atomically, one refresh per rotation,
and what survives a crash at each step."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.config import Settings
from bot.errors import RetryLater
from bot.locks import MemoryLocks
from bot.store import Store
from bot.store.models import ChannelCredential
from integrations.zalo import cli
from integrations.zalo.api import ZaloApi
from integrations.zalo.repo import CredentialRepo
from integrations.zalo.setup import build_tokens
from tests.zalo.conftest import Zalo
from tests.zalo.fake_zalo import APP_ID, APP_SECRET, FIRST_ACCESS, FIRST_REFRESH, FakeZalo

CS = "/v3.0/oa/message/cs"
OAUTH = "/v4/oa/access_token"


async def credentials(store: Store) -> dict[str, tuple[str, str | None, int]]:
    async with store.sessionmaker() as s:
        rows = await s.scalars(select(ChannelCredential))
        return {r.channel: (r.access_token, r.refresh_token, r.version) for r in rows}


def oauth_calls(fake: FakeZalo) -> list[Any]:
    return [c for c in fake.calls if c.path == OAUTH]


async def test_expired_token_is_refreshed_persisted_and_retried_once(zalo: Zalo, store: Store) -> None:
    u = zalo.user("tok-1")
    await u.say("xin chào")  # seeds the configured pair
    assert await credentials(store) == {"zalo": (FIRST_ACCESS, FIRST_REFRESH, 1)}
    zalo.fake.calls.clear()
    zalo.fake.expire_access_token()
    await u.say("menu")
    first, oauth, retry = zalo.fake.calls[:3]
    assert (first.path, first.headers["access_token"], first.answer["error"]) == (CS, FIRST_ACCESS, -216)
    assert oauth.path == OAUTH and oauth.headers["secret_key"] == APP_SECRET
    assert oauth.form == {"refresh_token": FIRST_REFRESH, "app_id": APP_ID, "grant_type": "refresh_token"}
    assert oauth.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert (retry.path, retry.headers["access_token"], retry.json, retry.ok) == (CS, "access-1", first.json, True)
    assert all(c.headers["access_token"] == "access-1" for c in zalo.fake.calls[3:])
    # the new pair replaced the old one (CAS version 2); the previous pair is gone once the new one worked
    assert await credentials(store) == {"zalo": ("access-1", "refresh-1", 2)}
    async with store.sessionmaker() as s:
        row = await s.get_one(ChannelCredential, "zalo")
    assert row.expires_at == zalo.clock.now() + timedelta(seconds=90000)
    assert len(oauth_calls(zalo.fake)) == 1


async def workers(zalo: Zalo, store: Store, http: aiohttp.ClientSession, n: int,
                  shared_lock: bool) -> list[ZaloApi]:
    locks = zalo.ctx.locks
    apis = []
    for _ in range(n):
        tokens = build_tokens(zalo.ctx.settings, store.sessionmaker, zalo.clock,
                              locks if shared_lock else MemoryLocks(), http)
        apis.append(ZaloApi(http, zalo.fake.url, tokens))
    return apis


@pytest.mark.parametrize("shared_lock", [True, False], ids=["one-lock", "separate-locks"])
async def test_concurrent_workers_refresh_once(zalo: Zalo, store: Store, shared_lock: bool) -> None:
    async with aiohttp.ClientSession() as http:
        apis = await workers(zalo, store, http, 4, shared_lock)
        for api in apis:
            await api.send_message("w", {"text": "warm-up"})  # every worker holds access-0
        zalo.fake.expire_access_token()
        await asyncio.gather(*(api.send_message("w", {"text": f"after {i}"}) for i, api in enumerate(apis)))
    ok = [c for c in oauth_calls(zalo.fake) if "access_token" in c.answer]
    assert len(ok) == 1  # one rotation; no worker ever burnt the new refresh token
    assert sorted(c.text for c in zalo.fake.sends("w")) == [f"after {i}" for i in range(4)] + ["warm-up"] * 4
    assert (await credentials(store))["zalo"] == ("access-1", "refresh-1", 2)


async def test_stale_worker_uses_stored_pair_without_refreshing(zalo: Zalo, store: Store) -> None:
    async with aiohttp.ClientSession() as http:
        a, b = await workers(zalo, store, http, 2, shared_lock=False)
        await a.send_message("s", {"text": "1"})
        await b.send_message("s", {"text": "2"})
        zalo.fake.expire_access_token()
        await a.send_message("s", {"text": "3"})  # a rotates
        await b.send_message("s", {"text": "4"})  # b: -216, finds the stored pair, no OAuth
    assert len(oauth_calls(zalo.fake)) == 1
    assert [c.text for c in zalo.fake.sends("s")] == ["1", "2", "3", "4"]


async def test_crash_after_save_keeps_working_after_restart(zalo: Zalo, store: Store) -> None:
    async with aiohttp.ClientSession() as http:
        [api] = await workers(zalo, store, http, 1, shared_lock=True)
        await api.send_message("c", {"text": "before"})
        zalo.fake.expire_access_token()
        original_confirm = CredentialRepo.confirm
        CredentialRepo.confirm = _crash  # type: ignore[method-assign]
        try:
            with pytest.raises(RuntimeError):
                await api.send_message("c", {"text": "dies after the rotation was stored"})
        finally:
            CredentialRepo.confirm = original_confirm  # type: ignore[method-assign]
        # the new pair and the previous one are both on disk
        creds = await credentials(store)
        assert creds["zalo"] == ("access-1", "refresh-1", 2) and creds["zalo:prev"][0] == FIRST_ACCESS
        [restarted] = await workers(zalo, store, http, 1, shared_lock=True)
        await restarted.send_message("c", {"text": "after restart"})
    assert await credentials(store) == {"zalo": ("access-1", "refresh-1", 2)}
    assert len(oauth_calls(zalo.fake)) == 1


async def test_crash_before_oauth_loses_nothing(zalo: Zalo, store: Store) -> None:
    async with aiohttp.ClientSession() as http:
        [api] = await workers(zalo, store, http, 1, shared_lock=True)
        await api.send_message("c", {"text": "before"})
        zalo.fake.expire_access_token()
        await zalo.fake.close()  # OAuth unreachable: the process "dies" before a rotation
        with pytest.raises(RetryLater):
            await api.send_message("c", {"text": "x"})
        await zalo.fake.start()
    assert await credentials(store) == {"zalo": (FIRST_ACCESS, FIRST_REFRESH, 1)}
    assert zalo.fake.refresh_token == FIRST_REFRESH  # still valid at Zalo: nothing was consumed


async def test_lost_answer_recovery_with_cli(zalo: Zalo, store: Store, db_url: str) -> None:
    """Zalo rotated but the answer never reached us (network cut): the only way back is a new
    refresh token from the Zalo console, which the CLI stores."""
    async with aiohttp.ClientSession() as http:
        [api] = await workers(zalo, store, http, 1, shared_lock=True)
        await api.send_message("c", {"text": "before"})
    zalo.fake.used_refresh.add(FIRST_REFRESH)
    zalo.fake.access_token, zalo.fake.refresh_token = "access-9", "refresh-9"
    async with aiohttp.ClientSession() as http:
        [api] = await workers(zalo, store, http, 1, shared_lock=True)
        with pytest.raises(RetryLater, match="refresh"):
            await api.send_message("c", {"text": "locked out"})
    settings = Settings(**{**zalo.ctx.settings.model_dump(), "database_url": db_url})
    version = await cli._refresh(settings, "refresh-9")
    assert version == 2
    assert (await credentials(store))["zalo"][:2] == ("access-1", "refresh-1")
    async with aiohttp.ClientSession() as http:
        [api] = await workers(zalo, store, http, 1, shared_lock=True)
        await api.send_message("c", {"text": "back"})
    assert zalo.fake.sends("c")[-1].text == "back"


async def _crash(self: CredentialRepo) -> None:
    raise RuntimeError("process killed")


def test_cli_mounts_refresh_token() -> None:
    from typer.testing import CliRunner

    result = CliRunner().invoke(cli.app, ["refresh-token", "--help"])
    assert result.exit_code == 0 and "--refresh-token" in result.output


async def test_tokens_seed_only_an_empty_table(zalo: Zalo, store: Store, clock: FixedClock) -> None:
    repo = CredentialRepo(store.sessionmaker, clock)
    await repo.rotate(None, "stored-access", "stored-refresh", None)
    zalo.fake.access_token = "stored-access"
    await zalo.user("seed").say("xin chào")
    assert all(c.headers["access_token"] == "stored-access" for c in zalo.fake.sends("seed"))
