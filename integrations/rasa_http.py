"""`POST /model/parse`: any NLU served with Rasa's request/response shape, so Rasa clients can use it.

Request `{"text": "...", "message_id"?: "..."}` → Rasa's parse result plus `category`. Bad requests
get Rasa's error shape with code 400; an NLU failure gets 503 in the same shape. Never a 500.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from nlu.types import NLU

log = logging.getLogger(__name__)

API_VERSION = "tiengdan-nlu/1 (rasa 3.x compatible)"
NLU_APP_KEY = web.AppKey("tiengdan_nlu", NLU)


def error_body(message: str, reason: str, code: int) -> dict[str, Any]:
    return {"version": API_VERSION, "status": "failure", "message": message, "reason": reason, "code": code}


def _error(message: str, reason: str, code: int) -> web.Response:
    return web.json_response(error_body(message, reason, code), status=code)


async def parse_handler(request: web.Request) -> web.Response:
    try:
        raw = await request.read()
        body = json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _error("Request body is not valid JSON.", "BadRequest", 400)
    if not isinstance(body, dict) or "text" not in body:
        return _error("No text message defined in request_body. Add `text` to the JSON body.", "BadRequest", 400)
    text = body["text"]
    if not isinstance(text, str):
        return _error("`text` must be a string.", "BadRequest", 400)
    try:
        result = await request.app[NLU_APP_KEY].parse(text)
    except Exception:  # the boundary: log, answer, keep serving
        log.exception("NLU failed on a /model/parse request")
        return _error("The NLU could not parse this message.", "ParsingError", 503)
    return web.json_response(result.to_rasa(), dumps=lambda o: json.dumps(o, ensure_ascii=False))


def add_routes(app: web.Application, nlu: NLU) -> None:
    """Mount `POST /model/parse` on `app`, answering with `nlu`."""
    app[NLU_APP_KEY] = nlu
    app.router.add_post("/model/parse", parse_handler)
