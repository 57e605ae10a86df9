"""`POST /zalo/webhook`: authenticate, store, answer — the work happens in intake.py.

Answers: 403 for a missing/wrong signature or a stale timestamp (replay), 400 for a body that
is not a JSON object or an event missing its fields, 200 for everything accepted — including
events we only log (receipts, unknown names) and retries of events already stored. A failure
to store answers 503 so Zalo retries; nothing is acknowledged before it is durable.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from bot.clock import Clock
from bot.config import Settings
from integrations.zalo.events import MalformedEvent, event_name, parse_event
from integrations.zalo.intake import ZaloIntake
from integrations.zalo.metrics import ZaloMetrics
from integrations.zalo.signature import is_fresh, parse_timestamp_ms, signature_matches

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-ZEvent-Signature"


class ZaloWebhook:
    def __init__(self, settings: Settings, clock: Clock, intake: ZaloIntake,
                 metrics: ZaloMetrics | None = None) -> None:
        self._metrics = metrics or ZaloMetrics()
        self._app_id = settings.zalo_app_id or ""
        secret = settings.zalo_oa_secret if settings.zalo_signature_secret == "oa" else settings.zalo_app_secret
        self._secret = secret.get_secret_value() if secret is not None else ""
        self._max_age = settings.zalo_signature_max_age_seconds
        self._clock = clock
        self._intake = intake

    async def handle(self, request: web.Request) -> web.Response:
        header = request.headers.get(SIGNATURE_HEADER)
        if not header or not self._secret:
            return self._answer(403, "signature")
        raw = await request.read()
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return self._answer(400, "bad_json")
        if not isinstance(body, dict):
            return self._answer(400, "bad_json")
        timestamp = body.get("timestamp")
        timestamp_ms = parse_timestamp_ms(timestamp)
        if timestamp_ms is None:
            return self._answer(400, "timestamp")
        if not signature_matches(header, self._app_id, raw, str(timestamp), self._secret):
            return self._answer(403, "signature")
        if not is_fresh(timestamp_ms, self._clock.now(), self._max_age):
            return self._answer(403, "stale")
        return await self._accept(body)

    async def _accept(self, body: dict[str, Any]) -> web.Response:
        name = event_name(body)
        try:
            event = parse_event(body)
        except MalformedEvent as exc:
            log.warning("zalo %s event refused: %s", name[:40], exc)
            return self._answer(400, "malformed")
        if event is None:
            log.info("zalo event %r acknowledged without handling", name[:40])
            return self._answer(200, "ignored")
        try:
            added = await self._intake.accept(body)
        except Exception:
            log.exception("zalo event could not be stored; asking Zalo to retry")
            return self._answer(503, "unavailable")
        return self._answer(200, "accepted" if added else "duplicate")

    def _answer(self, status: int, result: str) -> web.Response:
        self._metrics.webhook_events.labels(result=result).inc()
        return web.json_response({"result": result}, status=status)
