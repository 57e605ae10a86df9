"""The OA Open API client (ours, on aiohttp): one place that turns answers into our errors.

Zalo reports errors inside HTTP 200 answers, so `"error"` is checked on every answer. An
expired token (-216/-220) is refreshed and the call retried once; -230 (outside the
interaction window) is `WindowClosed`; -32 (rate limit), 429/5xx and network trouble are
`RetryLater`; anything else Zalo refuses is `PermanentSendError`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from bot.errors import PermanentSendError, RetryLater, WindowClosed
from integrations.zalo.events import as_int
from integrations.zalo.metrics import ZaloMetrics
from integrations.zalo.tokens import TokenError, TokenManager

log = logging.getLogger(__name__)

TOKEN_EXPIRED = frozenset({-216, -220})
OUTSIDE_WINDOW = -230
NIGHT_BLOCKED = -234
RATE_LIMITED = -32
RATE_LIMIT_RETRY_SECONDS = 60.0
NIGHT_RETRY_SECONDS = 3600.0

SEND_PATH = "/v3.0/oa/message/cs"
UPLOAD_IMAGE_PATH = "/v2.0/oa/upload/image"


class ZaloApiError(PermanentSendError):
    """Zalo refused a call with an error code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"zalo error {code}: {message}")
        self.code = code


Call = Callable[[str], Awaitable[dict[str, Any]]]


class ZaloApi:
    def __init__(self, http: aiohttp.ClientSession, api_url: str, tokens: TokenManager,
                 timeout: float = 15.0, metrics: ZaloMetrics | None = None) -> None:
        self._http = http
        self._metrics = metrics or ZaloMetrics()
        self._base = api_url.rstrip("/")
        self._tokens = tokens
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def send_message(self, user_id: str, message: dict[str, Any]) -> dict[str, Any]:
        """A consultation (`cs`) message; returns Zalo's `data` object."""
        body = {"recipient": {"user_id": user_id}, "message": message}
        return await self._authorized(lambda token: self._post_json(SEND_PATH, body, token))

    async def upload_image(self, data: bytes, filename: str, mime: str) -> str:
        """Upload an image (≤ 1 MB) and return its `attachment_id`."""

        async def call(token: str) -> dict[str, Any]:
            form = aiohttp.FormData()
            form.add_field("file", data, filename=filename, content_type=mime)
            return await self._request(UPLOAD_IMAGE_PATH, token, data=form)

        answer = await self._authorized(call)
        attachment_id = answer.get("attachment_id")
        if not isinstance(attachment_id, str) or not attachment_id:
            raise PermanentSendError("upload answered without attachment_id")
        return attachment_id

    async def _authorized(self, call: Call) -> dict[str, Any]:
        token = await self._token()
        answer = await call(token)
        code = _code(answer)
        if code in TOKEN_EXPIRED:
            log.info("zalo token refused (%s); refreshing", code)
            try:
                token = await self._tokens.refresh(token)
            except TokenError as exc:
                raise RetryLater(f"zalo token refresh failed: {exc}") from exc
            answer = await call(token)
            code = _code(answer)
        if code == 0:
            await self._tokens.confirm(token)
            data = answer.get("data")
            return data if isinstance(data, dict) else {}
        raise _error(code, answer, self._metrics)

    async def _token(self) -> str:
        try:
            return await self._tokens.access_token()
        except TokenError as exc:
            raise RetryLater(f"no zalo token: {exc}") from exc

    async def _post_json(self, path: str, body: dict[str, Any], token: str) -> dict[str, Any]:
        return await self._request(path, token, json=body)

    async def _request(self, path: str, token: str, **kwargs: Any) -> dict[str, Any]:
        url = self._base + path
        try:
            async with self._http.post(url, headers={"access_token": token}, timeout=self._timeout,
                                       **kwargs) as resp:
                if resp.status == 429 or resp.status >= 500:
                    raise RetryLater(f"zalo http {resp.status}", _retry_after(resp))
                if resp.status >= 400:
                    raise PermanentSendError(f"zalo http {resp.status}")
                answer = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RetryLater(f"zalo unreachable: {type(exc).__name__}") from exc
        except ValueError as exc:
            raise RetryLater("zalo answered something that is not JSON") from exc
        if not isinstance(answer, dict):
            raise RetryLater("zalo answered something that is not an object")
        return answer


def _code(answer: dict[str, Any]) -> int:
    code = as_int(answer.get("error", 0))
    return -1 if code is None else code


def _error(code: int, answer: dict[str, Any], metrics: ZaloMetrics) -> Exception:
    message = str(answer.get("message") or "")[:200]
    metrics.api_errors.labels(code=str(code)).inc()
    if code == OUTSIDE_WINDOW:
        metrics.window_closed.inc()
        log.warning("zalo: user outside the interaction window (-230); kept for their next visit")
        return WindowClosed(f"zalo error {code}: {message}")
    if code == RATE_LIMITED:
        return RetryLater(f"zalo rate limited: {message}", RATE_LIMIT_RETRY_SECONDS)
    if code == NIGHT_BLOCKED:
        return RetryLater(f"zalo night-time block: {message}", NIGHT_RETRY_SECONDS)
    if code in TOKEN_EXPIRED:
        return RetryLater(f"zalo token still refused after refresh: {message}")
    log.warning("zalo refused a call: %s %s", code, message)
    return ZaloApiError(code, message)


def _retry_after(resp: aiohttp.ClientResponse) -> float | None:
    try:
        return float(resp.headers.get("Retry-After", ""))
    except ValueError:
        return None
