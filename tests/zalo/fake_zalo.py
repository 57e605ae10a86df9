"""A local stand-in for the Zalo OA Open API and OAuth (reached via TIENGDAN_ZALO_API_URL/_OAUTH_URL).

Records every call; checks the `access_token` header against the one valid token; rotates
token pairs on refresh and refuses a reused refresh token with -14020, like Zalo; serves
attachment downloads under `/files/…`; and can be told to answer the next sends with an
error code (-216, -230, -32…).
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

APP_ID = "5055000000000000001"
APP_SECRET = "app-secret-xyz"
OA_SECRET = "oa-secret-abc"
FIRST_ACCESS = "access-0"
FIRST_REFRESH = "refresh-0"


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    json: dict[str, Any] | None = None
    form: dict[str, str] = field(default_factory=dict)
    file: bytes | None = None
    answer: dict[str, Any] = field(default_factory=dict)

    @property
    def user_id(self) -> str | None:
        return (self.json or {}).get("recipient", {}).get("user_id")

    @property
    def message(self) -> dict[str, Any]:
        return (self.json or {}).get("message", {})

    @property
    def text(self) -> str:
        return str(self.message.get("text", ""))

    @property
    def template(self) -> dict[str, Any]:
        return self.message.get("attachment", {}).get("payload", {})

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return list(self.template.get("buttons", []))

    @property
    def ok(self) -> bool:
        return self.answer.get("error") == 0


class FakeZalo:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.files: dict[str, bytes] = {}
        self.huge_bytes = 0  # size streamed by /files/huge
        self.access_token = FIRST_ACCESS
        self.refresh_token = FIRST_REFRESH
        self.used_refresh: set[str] = set()
        self.send_errors: deque[int] = deque()
        self._pairs = itertools.count(1)
        self._ids = itertools.count(1)
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_post("/v3.0/oa/message/cs", self._send)
        app.router.add_post("/v2.0/oa/upload/image", self._upload)
        app.router.add_post("/v4/oa/access_token", self._oauth)
        app.router.add_get("/files/huge", self._huge)
        app.router.add_get("/files/{name}", self._file)
        self._server = TestServer(app, host="127.0.0.1")

    async def start(self) -> None:
        await self._server.start_server()

    async def close(self) -> None:
        await self._server.close()

    @property
    def url(self) -> str:
        return str(self._server.make_url("")).rstrip("/")

    def file_url(self, name: str) -> str:
        return f"{self.url}/files/{name}"

    # --- scripting ---------------------------------------------------------------------------
    def fail_next_sends(self, *codes: int) -> None:
        """Answer the next sends with these error codes, in order (0 = let that one succeed)."""
        self.send_errors.extend(codes)

    def expire_access_token(self) -> None:
        self.access_token = "expired-" + self.access_token

    # --- reading -----------------------------------------------------------------------------
    def sends(self, user_id: str | None = None, *, ok_only: bool = True) -> list[Call]:
        return [c for c in self.calls if c.path.endswith("/message/cs") and (not ok_only or c.ok)
                and (user_id is None or c.user_id == user_id)]

    def paths(self) -> list[str]:
        return [c.path for c in self.calls]

    # --- handlers ------------------------------------------------------------------------------
    def _authorized(self, request: web.Request) -> dict[str, Any] | None:
        if request.headers.get("access_token") != self.access_token:
            return {"error": -216, "message": "Access token is invalid"}
        return None

    async def _send(self, request: web.Request) -> web.Response:
        call = Call(request.path, dict(request.headers), json=await request.json())
        self.calls.append(call)
        answer = self._authorized(request)
        if answer is None and self.send_errors:
            code = self.send_errors.popleft()
            if code:  # 0 lets one send through
                answer = {"error": code, "message": f"scripted error {code}"}
        if answer is None:
            answer = {"error": 0, "message": "Success",
                      "data": {"message_id": f"m{next(self._ids)}", "user_id": call.user_id}}
        call.answer = answer
        return web.json_response(answer)  # Zalo answers HTTP 200 even for errors

    async def _upload(self, request: web.Request) -> web.Response:
        data = await request.post()
        upload = data.get("file")
        content = upload.file.read() if isinstance(upload, web.FileField) else None
        call = Call(request.path, dict(request.headers), file=content)
        self.calls.append(call)
        answer = self._authorized(request)
        if answer is None and (content is None or len(content) > 1024 * 1024):
            answer = {"error": -210, "message": "file too large or missing"}
        if answer is None:
            answer = {"error": 0, "message": "Success", "data": {"attachment_id": f"att-{next(self._ids)}"}}
        call.answer = answer
        return web.json_response(answer)

    async def _oauth(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        call = Call(request.path, dict(request.headers), form=form)
        self.calls.append(call)
        token = form.get("refresh_token", "")
        if request.headers.get("secret_key") != APP_SECRET or form.get("app_id") != APP_ID:
            answer: dict[str, Any] = {"error": -14002, "error_name": "Invalid app"}
        elif form.get("grant_type") != "refresh_token":
            answer = {"error": -14003, "error_name": "Invalid grant type"}
        elif token in self.used_refresh:
            answer = {"error": -14020, "error_name": "Refresh token has been used"}
        elif token != self.refresh_token:
            answer = {"error": -14014, "error_name": "Invalid refresh token"}
        else:
            n = next(self._pairs)
            self.used_refresh.add(token)
            self.access_token, self.refresh_token = f"access-{n}", f"refresh-{n}"
            answer = {"access_token": self.access_token, "refresh_token": self.refresh_token,
                      "expires_in": "90000"}
        call.answer = answer
        return web.json_response(answer)

    async def _file(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.calls.append(Call(request.path, dict(request.headers)))
        if name not in self.files:
            return web.Response(status=404, text="not found")
        return web.Response(body=self.files[name], content_type="application/octet-stream")

    async def _huge(self, request: web.Request) -> web.StreamResponse:
        """No Content-Length: the client must stop reading at its own cap."""
        self.calls.append(Call(request.path, dict(request.headers)))
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        chunk = b"\xff\xd8\xff" + b"\x00" * (64 * 1024 - 3)
        sent = 0
        try:
            while sent < self.huge_bytes:
                await resp.write(chunk)
                sent += len(chunk)
            await resp.write_eof()
        except ConnectionError:
            pass
        return resp
