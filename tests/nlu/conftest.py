"""NLU fixtures: the models are trained once per session into a temp dir (a few seconds)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from nlu.embedded import EmbeddedNLU
from nlu.train import DEFAULT_DATA_DIR, ensure_models

TODAY = date(2026, 1, 7)  # a Wednesday


@pytest.fixture(scope="session")
def nlu_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    model_dir = tmp_path_factory.mktemp("nlu_models")
    ensure_models(model_dir, DEFAULT_DATA_DIR)
    return model_dir


@pytest.fixture(scope="session")
def embedded(nlu_model_dir: Path) -> EmbeddedNLU:
    return EmbeddedNLU.load(nlu_model_dir, DEFAULT_DATA_DIR, today=lambda: TODAY)
