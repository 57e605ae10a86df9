"""Where the NLU keeps its training data and models; import-cheap so the CLI can start fast."""

from __future__ import annotations

from pathlib import Path

NLU_DIR = Path(__file__).resolve().parent
DEFAULT_DATA_DIR = NLU_DIR / "data"
DEFAULT_MODEL_DIR = NLU_DIR / "models"
