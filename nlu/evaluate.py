"""Evaluate the recognizer on labelled examples: per-label precision/recall/F1 and a confusion table.

Labels `category_<name>` are checked against the category model, all others against the intent.
Every report is computed twice: on the text as given and with diacritics stripped, since many
citizens type without accents.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sklearn.metrics import precision_recall_fscore_support

from nlu.dataset import CATEGORY_PREFIX, Example
from nlu.normalize import strip_diacritics
from nlu.types import FALLBACK_INTENT, ParseResult

OUT_OF_SCOPE = "out_of_scope"


@dataclass(frozen=True)
class LabelScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Report:
    title: str
    accuracy: float
    scores: list[LabelScore]
    labels: list[str]
    matrix: list[list[int]]

    def render(self) -> str:
        lines = [f"== {self.title}: accuracy {self.accuracy:.3f} on {sum(s.support for s in self.scores)}"]
        width = max([len(label) for label in self.labels] + [5])
        lines.append(f"{'label':<{width}}  precision  recall     f1  support")
        for s in self.scores:
            lines.append(f"{s.label:<{width}}  {s.precision:9.3f}  {s.recall:6.3f}  {s.f1:5.3f}  {s.support:7d}")
        lines.append("confusion (rows = expected, columns = predicted, in label order):")
        for label, row in zip(self.labels, self.matrix, strict=True):
            lines.append(f"{label:<{width}}  " + " ".join(f"{n:3d}" for n in row))
        return "\n".join(lines)


def build_report(title: str, expected: Sequence[str], predicted: Sequence[str]) -> Report:
    labels = sorted(set(expected) | set(predicted))
    p, r, f, s = precision_recall_fscore_support(expected, predicted, labels=labels, zero_division=0)
    scores = [LabelScore(label, float(p[i]), float(r[i]), float(f[i]), int(s[i])) for i, label in enumerate(labels)]
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for e, g in zip(expected, predicted, strict=True):
        matrix[index[e]][index[g]] += 1
    hits = sum(1 for e, g in zip(expected, predicted, strict=True) if e == g)
    return Report(title, hits / max(len(expected), 1), scores, labels, matrix)


def _predict_intent(result: ParseResult, gold: str) -> str:
    name = result.intent["name"]
    return OUT_OF_SCOPE if name == FALLBACK_INTENT and gold == OUT_OF_SCOPE else name


def evaluate(parse: Callable[[str], ParseResult], examples: Sequence[Example]) -> list[Report]:
    """Reports for intents and categories (those present), as given and without diacritics."""
    reports = []
    intents = [e for e in examples if not e.label.startswith(CATEGORY_PREFIX)]
    categories = [e for e in examples if e.label.startswith(CATEGORY_PREFIX)]
    for variant, transform in (("as given", lambda t: t), ("without diacritics", strip_diacritics)):
        if intents:
            predicted = [_predict_intent(parse(transform(e.text)), e.label) for e in intents]
            reports.append(build_report(f"intents, {variant}", [e.label for e in intents], predicted))
        if categories:
            predicted = []
            for e in categories:
                category = parse(transform(e.text)).category
                predicted.append(CATEGORY_PREFIX + category["name"] if category else "none")
            reports.append(build_report(f"categories, {variant}", [e.label for e in categories], predicted))
    return reports
