"""The OA access token and its single-use, rotating refresh token.

Refreshing consumes the refresh token, so exactly one worker may do it and the new pair must
be stored the moment it arrives. Order of work: take the shared lock → reload the stored
pair (another worker may have rotated already: then just use it) → call OAuth → store the new
pair in one transaction, compare-and-swap on `version`, keeping the previous pair until the
new one has worked once. The configured pair (settings) only seeds an empty table.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp

from bot.clock import Clock
from bot.errors import TiengDanError
from bot.locks import LockManager
from integrations.zalo.events import as_int
from integrations.zalo.metrics import ZaloMetrics
from integrations.zalo.repo import Credential, CredentialRepo

log = logging.getLogger(__name__)

REFRESH_LOCK = "zalo:token-refresh"
REUSED_REFRESH_TOKEN = -14020
ROTATION_WAIT_ROUNDS = 5
ROTATION_WAIT_SECONDS = 0.2


class TokenError(TiengDanError):
    """No usable token: the refresh token was refused (re-authorize with `tiengdan zalo refresh-token`)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int | None


class OAuthClient:
    """`POST {oauth_url}/v4/oa/access_token`, form-encoded, `secret_key` header = app secret."""

    def __init__(self, http: aiohttp.ClientSession, oauth_url: str, app_id: str, app_secret: str,
                 timeout: float = 15.0) -> None:
        self._http = http
        self._url = oauth_url.rstrip("/") + "/v4/oa/access_token"
        self._app_id = app_id
        self._app_secret = app_secret
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def refresh(self, refresh_token: str) -> TokenPair:
        form = {"refresh_token": refresh_token, "app_id": self._app_id, "grant_type": "refresh_token"}
        try:
            async with self._http.post(
                self._url, data=form, headers={"secret_key": self._app_secret}, timeout=self._timeout
            ) as resp:
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise TokenError(f"oauth unreachable: {type(exc).__name__}") from exc
        if not isinstance(data, dict):
            raise TokenError("oauth answered something that is not an object")
        error = data.get("error")
        if error not in (None, 0, "0"):
            code = as_int(error)
            raise TokenError(f"oauth error {error}: {data.get('error_name') or data.get('message')}", code)
        access, refresh = data.get("access_token"), data.get("refresh_token")
        if not isinstance(access, str) or not access or not isinstance(refresh, str) or not refresh:
            raise TokenError("oauth answer without a token pair")
        return TokenPair(access, refresh, as_int(data.get("expires_in")))


class TokenManager:
    def __init__(self, repo: CredentialRepo, oauth: OAuthClient, locks: LockManager, clock: Clock,
                 *, seed_access: str, seed_refresh: str | None, metrics: ZaloMetrics | None = None) -> None:
        self._repo = repo
        self._oauth = oauth
        self._locks = locks
        self._clock = clock
        self._seed = (seed_access, seed_refresh)
        self._metrics = metrics or ZaloMetrics()
        self._current: Credential | None = None
        self._unconfirmed = False
        self._guard = asyncio.Lock()

    async def access_token(self) -> str:
        """The token to use now (the stored pair wins over the configured one)."""
        if self._current is None:
            async with self._guard:
                if self._current is None:
                    self._current = await self._repo.load() or await self._repo.seed(*self._seed)
                    self._unconfirmed = await self._repo.load("zalo:prev") is not None
        return self._current.access_token

    async def refresh(self, failed_token: str | None = None, *, refresh_token: str | None = None) -> str:
        """A fresh access token after `failed_token` was refused (None: refresh regardless).

        `refresh_token` overrides the stored one (an operator recovering with a new token).
        Raises TokenError when OAuth refuses.
        """
        async with self._guard, self._locks.lock(REFRESH_LOCK):
            stored = await self._repo.load()
            if stored is not None and failed_token is not None and stored.access_token != failed_token:
                log.info("zalo token already rotated by another worker (version %s)", stored.version)
                self._current = stored
                return stored.access_token
            token = refresh_token or (stored.refresh_token if stored else None) or self._seed[1]
            if not token:
                raise TokenError("no refresh token stored or configured")
            try:
                pair = await self._oauth.refresh(token)
            except TokenError as exc:
                self._metrics.token_refreshes.labels(result="refused").inc()
                if exc.code == REUSED_REFRESH_TOKEN and refresh_token is None:
                    rotated = await self._rotated_elsewhere(stored)
                    if rotated is not None:
                        return rotated
                    log.critical("zalo refresh token refused as already used (-14020); "
                                 "re-authorize: tiengdan zalo refresh-token --refresh-token NEW")
                raise
            expires_at = self._expiry(pair.expires_in)
            saved = await self._repo.rotate(stored.version if stored else None, pair.access_token,
                                            pair.refresh_token, expires_at)
            if saved is None:
                # Someone rotated without our lock (the CLI on another machine). Ours is the newest
                # pair Zalo issued, so it must win: store it unconditionally.
                log.warning("zalo credential changed during refresh; storing the newer pair")
                saved = await self._repo.rotate(None, pair.access_token, pair.refresh_token, expires_at)
            assert saved is not None
            self._metrics.token_refreshes.labels(result="ok").inc()
            log.info("zalo token rotated (version %s)", saved.version)
            self._current = saved
            self._unconfirmed = True
            return saved.access_token

    async def _rotated_elsewhere(self, seen: Credential | None) -> str | None:
        """After -14020: did another process (not sharing our lock) just store a new pair?"""
        for _ in range(ROTATION_WAIT_ROUNDS):
            stored = await self._repo.load()
            if stored is not None and (seen is None or stored.version != seen.version):
                log.info("zalo token was rotated by another process (version %s)", stored.version)
                self._current = stored
                return stored.access_token
            await asyncio.sleep(ROTATION_WAIT_SECONDS)
        return None

    @property
    def version(self) -> int:
        """The version of the pair in use (0 before the first load)."""
        return self._current.version if self._current is not None else 0

    async def confirm(self, token: str) -> None:
        """A call with `token` succeeded: drop the previous pair kept as a fallback."""
        if self._unconfirmed and self._current is not None and self._current.access_token == token:
            self._unconfirmed = False
            await self._repo.confirm()

    def _expiry(self, expires_in: int | None) -> datetime | None:
        return None if expires_in is None else self._clock.now() + timedelta(seconds=expires_in)
