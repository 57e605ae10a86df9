"""The NLU contract: a parse result in Rasa's `/model/parse` shape, and the `NLU` protocol.

Every backend (embedded scikit-learn model, a real Rasa server over HTTP) returns `ParseResult`,
so dialogs never care which one answered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NotRequired, Protocol, TypedDict, runtime_checkable

FALLBACK_INTENT = "nlu_fallback"


class Score(TypedDict):
    name: str
    confidence: float


class Entity(TypedDict):
    """One entity, Rasa-style; `start`/`end` index the original text, `extra` carries codes (areas)."""

    entity: str
    start: int
    end: int
    value: Any
    confidence: float
    confidence_entity: float
    extractor: str
    extra: NotRequired[dict[str, Any]]


@dataclass
class ParseResult:
    """One parsed message. `category` is set only for problem descriptions (see `EmbeddedNLU`)."""

    text: str
    intent: Score
    intent_ranking: list[Score] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    category: Score | None = None

    def to_rasa(self) -> dict[str, Any]:
        """Rasa's `/model/parse` response (`text`, `intent`, `entities`, `intent_ranking`) + `category`."""
        return {
            "text": self.text,
            "intent": dict(self.intent),
            "entities": [dict(e) for e in self.entities],
            "intent_ranking": [dict(s) for s in self.intent_ranking],
            "category": dict(self.category) if self.category is not None else None,
        }

    def first(self, entity: str) -> Entity | None:
        """The first entity of that type, if any (helper for dialogs)."""
        return next((e for e in self.entities if e["entity"] == entity), None)


@runtime_checkable
class NLU(Protocol):
    """Anything that can parse a message: the embedded recognizer, Rasa over HTTP, a test fake."""

    async def parse(self, text: str) -> ParseResult: ...
