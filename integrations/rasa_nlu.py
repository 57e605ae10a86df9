"""NLU backed by a real Rasa server (`POST {url}/model/parse`), falling back to another NLU on any failure.

A Rasa answer is accepted only if it has Rasa's shape; timeouts, connection errors, non-2xx answers
and malformed JSON are logged and answered by the fallback (normally the embedded recognizer),
so a Rasa outage never reaches the citizen. Rasa knows no feedback categories: when it says
`file_feedback`, the category comes from the fallback's parse of the same text. Rasa's
`out_of_scope` intent is reported as `nlu_fallback`, as the embedded recognizer does.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp

from nlu.types import FALLBACK_INTENT, NLU, Entity, ParseResult, Score

log = logging.getLogger(__name__)

FEEDBACK_INTENT = "file_feedback"
OUT_OF_SCOPE = "out_of_scope"
CATEGORY_PREFIX = "category_"


class BadRasaResponse(ValueError):
    """The server answered, but not in Rasa's `/model/parse` shape."""


class RasaHttpNLU:
    """Implements `NLU` over HTTP. Pass a shared `session`, or let it own one (then `await close()`)."""

    def __init__(
        self,
        url: str,
        timeout: float,
        fallback: NLU,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._url = url.rstrip("/") + "/model/parse"
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._fallback = fallback
        self._session = session
        self._owns_session = session is None

    async def parse(self, text: str) -> ParseResult:
        try:
            payload = await self._post(text)
            result = parse_rasa_response(text, payload)
        except (aiohttp.ClientError, TimeoutError, BadRasaResponse, ValueError) as exc:
            log.warning("Rasa NLU at %s failed (%s: %s); using the embedded NLU", self._url, type(exc).__name__, exc)
            return await self._fallback.parse(text)
        if result.intent["name"] == FEEDBACK_INTENT and result.category is None:
            result.category = (await self._fallback.parse(text)).category
        return result

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def _post(self, text: str) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.post(self._url, json={"text": text}, timeout=self._timeout) as resp:
            if resp.status != 200:
                raise BadRasaResponse(f"HTTP {resp.status}")
            return await resp.json(content_type=None)


def parse_rasa_response(text: str, payload: Any) -> ParseResult:
    """Validate a `/model/parse` answer and turn it into a `ParseResult` (raises `BadRasaResponse`)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("intent"), dict):
        raise BadRasaResponse("no intent object")
    intent = _score(payload["intent"])
    raw_ranking = payload.get("intent_ranking") or []
    raw_entities = payload.get("entities") or []
    if not isinstance(raw_ranking, list) or not isinstance(raw_entities, list):
        raise BadRasaResponse("intent_ranking/entities not lists")
    ranking = [_score(s) for s in raw_ranking]
    entities = [_entity(e) for e in raw_entities]
    category = _category(payload.get("category"), ranking)
    if intent["name"].startswith(CATEGORY_PREFIX):
        intent = {"name": FEEDBACK_INTENT, "confidence": intent["confidence"]}
    if intent["name"] == OUT_OF_SCOPE:
        intent = {"name": FALLBACK_INTENT, "confidence": intent["confidence"]}
    return ParseResult(text=text, intent=intent, intent_ranking=ranking, entities=entities, category=category)


def _score(raw: Any) -> Score:
    if not isinstance(raw, dict):
        raise BadRasaResponse("score is not an object")
    name, confidence = raw.get("name"), raw.get("confidence", 0.0)
    if name is None:  # Rasa answers name null for empty text
        name = FALLBACK_INTENT
    if not isinstance(name, str) or not isinstance(confidence, int | float) or isinstance(confidence, bool):
        raise BadRasaResponse("bad intent name/confidence")
    return {"name": name, "confidence": float(confidence)}


def _entity(raw: Any) -> Entity:
    if not isinstance(raw, dict):
        raise BadRasaResponse("entity is not an object")
    try:
        start, end, name = int(raw["start"]), int(raw["end"]), str(raw["entity"])
    except (KeyError, TypeError, ValueError) as exc:
        raise BadRasaResponse(f"bad entity: {exc}") from exc
    confidence = raw.get("confidence_entity", raw.get("confidence", 1.0))
    confidence = float(confidence) if isinstance(confidence, int | float) else 1.0
    entity: Entity = {
        "entity": name,
        "start": start,
        "end": end,
        "value": raw.get("value"),
        "confidence": confidence,
        "confidence_entity": confidence,
        "extractor": str(raw.get("extractor") or "rasa"),
    }
    if isinstance(raw.get("extra"), dict):
        entity["extra"] = raw["extra"]
    return entity


def _category(raw: Any, ranking: list[Score]) -> Score | None:
    """A `category` field (another Tiếng Dân server) or the best `category_*` intent (Rasa trained on both files)."""
    if isinstance(raw, dict) and isinstance(raw.get("name"), str):
        return _score(raw)
    best = next((s for s in ranking if s["name"].startswith(CATEGORY_PREFIX)), None)
    if best is None:
        return None
    return {"name": best["name"].removeprefix(CATEGORY_PREFIX), "confidence": best["confidence"]}
