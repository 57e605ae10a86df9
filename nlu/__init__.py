"""Vietnamese NLU for Tiếng Dân: intents, feedback categories and entities, Rasa-compatible.

Importing this package is cheap and has no side effects; scikit-learn is only imported when
`EmbeddedNLU` is first touched.

    nlu = EmbeddedNLU.load(Path("nlu/models"))      # trains on first use / when data changed
    result = await nlu.parse("đường ngập ở phường Hồng Hà")
    result.intent["name"], result.category, result.entities, result.to_rasa()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nlu.types import FALLBACK_INTENT, NLU, Entity, ParseResult, Score

if TYPE_CHECKING:
    from nlu.embedded import EmbeddedNLU

__all__ = ["FALLBACK_INTENT", "NLU", "EmbeddedNLU", "Entity", "ParseResult", "Score"]


def __getattr__(name: str) -> Any:
    if name == "EmbeddedNLU":
        from nlu.embedded import EmbeddedNLU

        return EmbeddedNLU
    raise AttributeError(f"module 'nlu' has no attribute {name!r}")
