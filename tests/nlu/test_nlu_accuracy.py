"""Cross-validated accuracy with regression floors, as written and with diacritics stripped.

5-fold stratified CV on the examples of nlu/data (each example and its accent-free twin stay in
the same fold). Floors sit about one point under today's figures (reported by bench/nlu.py and the
test output) so a data or feature change that hurts recognition fails here.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sklearn.model_selection import StratifiedKFold

from nlu.dataset import Example, load_training_data
from nlu.normalize import normalize, strip_diacritics
from nlu.recognizer import TextClassifier
from nlu.train import DEFAULT_DATA_DIR, training_masker

# 5-fold CV today: intents 0.922 / 0.920, categories 0.921 / 0.920 (as written / without diacritics).
FLOORS = {"intents": (0.91, 0.91), "categories": (0.91, 0.91)}


def cross_validate(examples: Sequence[Example], folds: int = 5) -> tuple[float, float]:
    masker = training_masker()
    texts = [masker(e.text) for e in examples]
    labels = [e.label for e in examples]
    hits = hits_ascii = 0
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=7).split(texts, labels):
        model = TextClassifier.fit([texts[i] for i in train], [labels[i] for i in train])
        given = model.predict([normalize(texts[i]).folded for i in test])
        stripped = model.predict([normalize(strip_diacritics(texts[i])).folded for i in test])
        hits += sum(p == labels[i] for p, i in zip(given, test, strict=True))
        hits_ascii += sum(p == labels[i] for p, i in zip(stripped, test, strict=True))
    return hits / len(examples), hits_ascii / len(examples)


@pytest.mark.parametrize("kind", ["intents", "categories"])
def test_cross_validated_accuracy_floor(kind: str) -> None:
    data = load_training_data(DEFAULT_DATA_DIR)
    accuracy, accuracy_ascii = cross_validate(getattr(data, kind))
    print(f"{kind}: {accuracy:.3f} as written, {accuracy_ascii:.3f} without diacritics")
    floor, floor_ascii = FLOORS[kind]
    assert accuracy >= floor
    assert accuracy_ascii >= floor_ascii
