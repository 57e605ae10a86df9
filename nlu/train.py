"""Train, save and load the embedded models, retraining automatically when the data changed.

A model directory holds `model.npz` (both classifiers as plain arrays, see nlu/linear.py: loading
and predicting need numpy only, not scikit-learn) and `fingerprint.txt`, a hash of every training
file plus the feature/model version and scikit-learn's version. `ensure_models()` compares
that hash with the data on disk and retrains when they differ, so editing `nlu/data/*.yml` never
leaves a stale model behind.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from importlib.metadata import version
from pathlib import Path

import numpy as np

from nlu.areas import AreaIndex
from nlu.dataset import fingerprint, load_training_data
from nlu.entities import EntityExtractor, mask_entities
from nlu.linear import MODEL_VERSION, LinearTextModel
from nlu.paths import DEFAULT_DATA_DIR

log = logging.getLogger(__name__)

MODEL_FILE = "model.npz"
FINGERPRINT_FILE = "fingerprint.txt"


@dataclass
class Models:
    intents: LinearTextModel
    categories: LinearTextModel
    fingerprint: str


def data_fingerprint(data_dir: Path) -> str:
    # The installed version, read without importing scikit-learn (slow) on every start.
    return fingerprint(data_dir, extra=(MODEL_VERSION, version("scikit-learn")))


def train_models(data_dir: Path = DEFAULT_DATA_DIR) -> Models:
    """Fit the intent and the category classifier on every YAML file under `data_dir`."""
    from nlu.recognizer import TextClassifier  # scikit-learn: only needed to train

    started = time.perf_counter()
    data = load_training_data(data_dir)
    if not data.intents or not data.categories:
        raise ValueError(f"no intent or category examples under {data_dir}")
    masker = training_masker()
    intents = TextClassifier.fit([masker(e.text) for e in data.intents], [e.label for e in data.intents])
    categories = TextClassifier.fit([masker(e.text) for e in data.categories], [e.label for e in data.categories])
    log.info(
        "trained NLU on %d intent / %d category examples in %.1fs",
        len(data.intents),
        len(data.categories),
        time.perf_counter() - started,
    )
    return Models(intents.compact(), categories.compact(), data_fingerprint(data_dir))


def training_masker() -> Callable[[str], str]:
    """The same entity masking the recognizer applies at parse time (dates relative to a fixed day)."""
    extractor = EntityExtractor(AreaIndex.load(), lambda: date(2025, 1, 1))
    return lambda text: mask_entities(text, extractor.extract(text))


def save_models(models: Models, model_dir: Path) -> None:
    """Write atomically (temp file + rename) so a concurrent reader never sees half a model."""
    model_dir.mkdir(parents=True, exist_ok=True)
    for name, write in (
        (MODEL_FILE, lambda p: _write_arrays(models, p)),
        (FINGERPRINT_FILE, lambda p: Path(p).write_text(models.fingerprint, encoding="utf-8")),
    ):
        fd, tmp = tempfile.mkstemp(dir=model_dir, prefix=f".{name}.")
        os.close(fd)
        try:
            write(tmp)
            os.replace(tmp, model_dir / name)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)


def _write_arrays(models: Models, path: str) -> None:
    with open(path, "wb") as f:  # a file object: np.savez would append ".npz" to a bare path
        arrays = {
            "fingerprint": np.frombuffer(models.fingerprint.encode(), dtype=np.uint8),
            **models.intents.to_arrays("intents_"),
            **models.categories.to_arrays("categories_"),
        }
        np.savez_compressed(f, allow_pickle=False, **arrays)


def load_models(model_dir: Path) -> Models | None:
    path = model_dir / MODEL_FILE
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return Models(
                LinearTextModel.from_arrays(arrays, "intents_"),
                LinearTextModel.from_arrays(arrays, "categories_"),
                arrays["fingerprint"].tobytes().decode(),
            )
    except Exception:  # corrupt, truncated or from another version: retrain rather than crash
        log.warning("could not load NLU model from %s; retraining", path, exc_info=True)
        return None


def saved_fingerprint(model_dir: Path) -> str | None:
    try:
        return (model_dir / FINGERPRINT_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return None


def ensure_models(model_dir: Path, data_dir: Path | None = None) -> Models:
    """Load the saved models, (re)training and saving first when missing or stale."""
    data_dir = data_dir or DEFAULT_DATA_DIR
    has_data = data_dir.is_dir()
    expected = data_fingerprint(data_dir) if has_data else None
    if expected is None or saved_fingerprint(model_dir) == expected:
        models = load_models(model_dir)
        if models is not None and (expected is None or models.fingerprint == expected):
            return models
    if not has_data:
        raise FileNotFoundError(f"no NLU model in {model_dir} and no training data in {data_dir}")
    log.info("NLU model in %s missing or stale; training from %s", model_dir, data_dir)
    models = train_models(data_dir)
    try:
        save_models(models, model_dir)
    except OSError:
        log.warning("could not save NLU model to %s; using it in memory only", model_dir, exc_info=True)
    return models
