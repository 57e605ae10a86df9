"""The numpy-only model (nlu/linear.py) predicts exactly what the scikit-learn pipeline predicts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nlu.dataset import load_training_data
from nlu.linear import LinearTextModel
from nlu.normalize import normalize, strip_diacritics
from nlu.recognizer import TextClassifier
from nlu.train import DEFAULT_DATA_DIR, load_models, training_masker

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("kind", ["intents", "categories"])
def test_numpy_path_ranks_like_the_sklearn_pipeline_on_the_training_data(kind: str) -> None:
    examples = getattr(load_training_data(DEFAULT_DATA_DIR), kind)
    masker = training_masker()
    texts = [masker(e.text) for e in examples]
    trained = TextClassifier.fit(texts, [e.label for e in examples])
    compact = LinearTextModel.from_arrays(trained.compact().to_arrays("m_"), "m_")  # through the file format
    folded = [normalize(t).folded for t in texts]
    inputs = folded + [strip_diacritics(t) for t in folded] + ["", "🙂", "zzzz qqqq", "đường " * 300]
    expected = trained.pipeline.predict_proba(inputs)
    classes = [str(c) for c in trained.pipeline.classes_]
    for text, probs in zip(inputs, expected, strict=True):
        ranking = compact.rank(text)
        assert [name for name, _ in ranking] == [classes[i] for i in np.argsort(probs)[::-1]], text
        assert np.allclose([p for _, p in ranking], np.sort(probs)[::-1], rtol=0, atol=1e-9), text


def test_saved_model_loads_and_parses_without_importing_sklearn(nlu_model_dir: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from nlu.embedded import EmbeddedNLU; "
        f"nlu = EmbeddedNLU.load(Path({str(nlu_model_dir)!r})); r = nlu.parse_sync('mất điện ở kiệt 12 từ sáng'); "
        "print(r.intent['name'], r.category['name'], any(m.split('.')[0] == 'sklearn' for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["file_feedback", "utilities_power_water", "False"]


def test_loaded_model_keeps_its_fingerprint(nlu_model_dir: Path) -> None:
    models = load_models(nlu_model_dir)
    assert models is not None
    assert models.fingerprint == (nlu_model_dir / "fingerprint.txt").read_text(encoding="utf-8")
    assert "greet" in models.intents.classes and "health" in models.categories.classes
