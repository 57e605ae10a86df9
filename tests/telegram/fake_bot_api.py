"""A local stand-in for the Telegram Bot API (reached through TIENGDAN_TELEGRAM_API_URL).

Records every call (method, decoded params — reply_markup JSON-decoded, ids as ints), answers
`{"ok": true, "result": …}` with realistic objects (PTB validates them), serves getFile and
file downloads, and can be told to fail a method (429 with `retry_after`, 400, 403).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

BOT_ID = 7000000001
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Tiếng Dân", "username": "tiengdan_test_bot"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float  # time.monotonic() when received

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")

    @property
    def text(self) -> str | None:
        return self.params.get("text") or self.params.get("caption")

    @property
    def markup(self) -> dict[str, Any] | None:
        return self.params.get("reply_markup")

    def inline_buttons(self) -> list[dict[str, Any]]:
        markup = self.markup or {}
        return [b for row in markup.get("inline_keyboard", []) for b in row]

    def keyboard_buttons(self) -> list[dict[str, Any]]:
        markup = self.markup or {}
        return [b for row in markup.get("keyboard", []) for b in row]


@dataclass
class Failure:
    error_code: int
    description: str
    retry_after: int | None = None


@dataclass
class FakeBotAPI:
    token: str = "123456:TEST-token"
    calls: list[Call] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)  # served by getUpdates
    webhook: dict[str, Any] = field(default_factory=dict)
    delay: float = 0.0  # seconds each call takes (to widen race windows)
    _server: TestServer | None = None
    _ids: Any = field(default_factory=lambda: itertools.count(1000))

    # --- control -------------------------------------------------------------------------
    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._server = TestServer(app, host="127.0.0.1", port=0)
        await self._server.start_server()
        return self.url

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return str(self._server.make_url("")).rstrip("/")

    def fail(self, method: str, error_code: int, description: str, *, retry_after: int | None = None,
             times: int = 1) -> None:
        """The next `times` calls of `method` fail like the real API does."""
        self.failures.setdefault(method, []).extend(
            [Failure(error_code, description, retry_after)] * times)

    def add_file(self, file_id: str, data: bytes) -> None:
        self.files[file_id] = data

    def of(self, method: str, chat_id: int | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == method and (chat_id is None or c.chat_id == chat_id)]

    def sent(self, chat_id: int | None = None) -> list[Call]:
        """Messages delivered (sendMessage/sendPhoto), in order."""
        return [c for c in self.calls if c.method in ("sendMessage", "sendPhoto")
                and (chat_id is None or c.chat_id == chat_id)]

    def mark(self) -> int:
        return len(self.calls)

    def since(self, mark: int) -> list[Call]:
        return self.calls[mark:]

    # --- the API -------------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await self._params(request)
        self.calls.append(Call(method, params, time.monotonic()))
        if self.delay:
            await asyncio.sleep(self.delay)
        queued = self.failures.get(method)
        if queued:
            failure = queued.pop(0)
            return self._error(failure.error_code, failure.description, failure.retry_after)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return self._error(404, "Not Found")
        result = handler(params)
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, "result": result})

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            raw: dict[str, Any] = await request.json()
        else:
            form = await request.post()
            raw = {}
            for key, value in form.items():
                raw[key] = value if isinstance(value, str) else value.file.read()
        return {k: _decode(k, v) for k, v in raw.items()}

    def _error(self, code: int, description: str, retry_after: int | None = None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
            body["description"] = f"Too Many Requests: retry after {retry_after}"
        return web.json_response(body, status=code)

    def _message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = params["chat_id"]
        message = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if int(chat_id) > 0 else "group", "first_name": "An"},
            "from": BOT_USER,
            **content,
        }
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        return message

    def _m_getMe(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            return self._error(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            return self._error(400, "Bad Request: message is too long")
        return self._message(params, text=text)

    def _m_sendPhoto(self, params: dict[str, Any]) -> Any:
        caption = params.get("caption")
        if isinstance(caption, str) and len(caption) > 1024:
            return self._error(400, "Bad Request: message caption is too long")
        size = {"file_id": f"sent-{next(self._ids)}", "file_unique_id": "u1", "width": 320, "height": 240}
        extra = {"caption": caption} if caption else {}
        return self._message(params, photo=[size], **extra)

    def _m_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        return True

    def _m_getFile(self, params: dict[str, Any]) -> Any:
        file_id = str(params.get("file_id"))
        data = self.files.get(file_id)
        if data is None:
            return self._error(400, "Bad Request: invalid file_id")
        if len(data) > 20 * 1024 * 1024:
            return self._error(400, "Bad Request: file is too big")
        return {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_size": len(data),
                "file_path": f"documents/{file_id}.bin"}

    def _m_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = dict(params)
        return True

    def _m_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {}
        return True

    def _m_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        return {"url": self.webhook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self.updates),
                "allowed_updates": self.webhook.get("allowed_updates", [])}

    def _m_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        return [u for u in self.updates if u["update_id"] >= offset][:100]

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        file_id = path.rsplit("/", 1)[-1].removesuffix(".bin")
        data = self.files.get(file_id)
        self.calls.append(Call("file", {"path": path}, time.monotonic()))
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="application/octet-stream")


_NUMERIC = {"chat_id", "message_id", "offset", "timeout", "limit", "max_connections", "user_id"}


def _decode(key: str, value: Any) -> Any:
    """Form fields arrive as strings; PTB JSON-encodes objects and sends numbers as text."""
    if not isinstance(value, str):
        return value
    if value[:1] in "{[" or value in ("true", "false"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    if key in _NUMERIC and value.lstrip("-").isdigit():
        return int(value)
    return value
