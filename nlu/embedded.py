"""The embedded recognizer: intents, feedback categories and entities in-process, no server needed.

Rules worth knowing:
* Fallback: when the best intent scores below `threshold`, the intent is `nlu_fallback` (as in
  Rasa's FallbackClassifier) with that best score as its confidence; `intent_ranking` still lists
  the real candidates, after `nlu_fallback` at the top.
* Category: set when the message looks like a problem description, i.e. the intent is
  `file_feedback`, or the category model is at least `category_threshold` sure and the message
  has at least 4 words (a description typed at another step). Otherwise `None`.
* `out_of_scope` (chit-chat, spam, gibberish) is reported as `nlu_fallback`; the ranking keeps it.
* Codes, phones, areas and dates are masked before classification (`mask_entities`), so "phường
  Hồng Hà" or a date never sways the intent or the category.
* A message that is essentially a case code ("1790 7829", "mã 1790-7829") is `check_status`.
* Only the first `MAX_CHARS` characters are analysed; any input yields a valid result.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from nlu.areas import AreaIndex
from nlu.entities import EntityExtractor, mask_entities
from nlu.normalize import normalize, strip_diacritics
from nlu.paths import DEFAULT_MODEL_DIR
from nlu.train import Models, ensure_models
from nlu.types import FALLBACK_INTENT, Entity, ParseResult, Score

log = logging.getLogger(__name__)

MAX_CHARS = 2000
RANKING_LENGTH = 10
FEEDBACK_INTENT = "file_feedback"
STATUS_INTENT = "check_status"
OUT_OF_SCOPE = "out_of_scope"
_VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_WORDS = re.compile(r"\w+")
_CODE_WORDS = {"ma", "so", "ho", "tra", "cuu", "kiem", "code", "case", "phan", "anh", "don", "xem", "giup"}


def vietnam_today() -> date:
    return datetime.now(_VN_TZ).date()


class EmbeddedNLU:
    """Implements the `NLU` protocol with the models of `nlu/train.py` (numpy at run time)."""

    def __init__(
        self,
        models: Models,
        areas: AreaIndex,
        threshold: float = 0.45,
        category_threshold: float = 0.6,
        today: Callable[[], date] = vietnam_today,
    ) -> None:
        self.models = models
        self.threshold = threshold
        self.category_threshold = category_threshold
        self._entities = EntityExtractor(areas, today)

    @classmethod
    def load(
        cls,
        model_dir: Path = DEFAULT_MODEL_DIR,
        data_dir: Path | None = None,
        threshold: float = 0.45,
        *,
        category_threshold: float = 0.6,
        today: Callable[[], date] = vietnam_today,
    ) -> EmbeddedNLU:
        """Load from `model_dir`, training first if the model is missing or older than the data."""
        return cls(ensure_models(model_dir, data_dir), AreaIndex.load(), threshold, category_threshold, today)

    async def parse(self, text: str) -> ParseResult:
        # ~1 ms of CPU: cheaper inline than a thread hop.
        return self.parse_sync(text)

    def parse_sync(self, text: str) -> ParseResult:
        """Parse one message; never raises on any string."""
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        clipped = text[:MAX_CHARS]
        folded = normalize(clipped).folded
        entities = self._entities.extract(clipped)
        if not _WORDS.search(folded):
            return ParseResult(
                text=text,
                intent={"name": FALLBACK_INTENT, "confidence": 0.0},
                intent_ranking=[{"name": FALLBACK_INTENT, "confidence": 0.0}],
                entities=entities,
            )
        masked = normalize(mask_entities(clipped, entities)).folded or folded
        ranking = [_score(n, c) for n, c in self.models.intents.rank(masked)[:RANKING_LENGTH]]
        ranking = _code_only_boost(ranking, folded, entities)
        best = ranking[0]
        if best["name"] == OUT_OF_SCOPE:
            in_scope = next((s for s in ranking if s["name"] != OUT_OF_SCOPE), best)
            best = _score(in_scope["name"], min(in_scope["confidence"], self.threshold - 0.01))
        if best["confidence"] < self.threshold:
            category = self._category(masked, is_feedback=False)
            fallback = _score(FALLBACK_INTENT, best["confidence"])
            return ParseResult(text, fallback, [fallback, *ranking[: RANKING_LENGTH - 1]], entities, category)
        category = self._category(masked, is_feedback=best["name"] == FEEDBACK_INTENT)
        return ParseResult(text, best, ranking, entities, category)

    def categorize(self, text: str) -> Score:
        """The best feedback category for any text (dialogs may ask this for a report's description)."""
        folded = normalize(text[:MAX_CHARS]).folded
        name, confidence = self.models.categories.rank(folded)[0]
        return _score(name, confidence)

    def _category(self, folded: str, is_feedback: bool) -> Score | None:
        if not is_feedback and len(_WORDS.findall(folded)) < 4:
            return None  # cannot qualify: skip the model call
        name, confidence = self.models.categories.rank(folded)[0]
        looks_like_problem = is_feedback or (confidence >= self.category_threshold and len(_WORDS.findall(folded)) >= 4)
        return _score(name, confidence) if looks_like_problem else None


def _score(name: str, confidence: float) -> Score:
    return {"name": name, "confidence": round(float(confidence), 4)}


def _code_only_boost(ranking: list[Score], folded: str, entities: list[Entity]) -> list[Score]:
    """A case code with at most a few lookup words around it means "what is the status of this?"."""
    if not any(e["entity"] == "case_code" for e in entities):
        return ranking
    others = [w for w in _WORDS.findall(strip_diacritics(folded)) if not w.isdigit() and w not in _CODE_WORDS]
    if len(others) > 2:
        return ranking
    status = next((s for s in ranking if s["name"] == STATUS_INTENT), _score(STATUS_INTENT, 0.0))
    boosted = _score(STATUS_INTENT, max(status["confidence"], 0.9))
    return [boosted, *(s for s in ranking if s["name"] != STATUS_INTENT)]
