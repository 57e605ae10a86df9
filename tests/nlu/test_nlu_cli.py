"""`tiengdan nlu parse|train|evaluate` through Typer's CliRunner."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from nlu.cli import app
from nlu.train import FINGERPRINT_FILE, MODEL_FILE

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def test_parse_prints_rasa_json(nlu_model_dir: Path) -> None:
    result = runner.invoke(app, ["parse", "mất điện ở phường Hồng Hà", "--model-dir", str(nlu_model_dir)])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["intent"]["name"] == "file_feedback"
    assert body["category"]["name"] == "utilities_power_water"
    assert body["entities"][0]["value"] == "Phường Hồng Hà"


def test_evaluate_tsv_prints_scores_as_given_and_without_diacritics(nlu_model_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "eval.tsv"
    data.write_text(
        "xin chào\tgreet\ncảm ơn nhé\tthank\nkhông phải\tdeny\nrác bốc mùi hôi\tcategory_environment_waste\n"
        "cúp điện cả ngày\tcategory_utilities_power_water\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["evaluate", str(data), "--model-dir", str(nlu_model_dir)])
    assert result.exit_code == 0, result.output
    for title in (
        "intents, as given",
        "intents, without diacritics",
        "categories, as given",
        "categories, without diacritics",
    ):
        assert f"== {title}: accuracy" in result.output
    assert "precision  recall" in result.output and "confusion" in result.output
    assert "category_environment_waste" in result.output


def test_evaluate_rasa_yaml(nlu_model_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "test.yml"
    data.write_text(
        'version: "3.1"\nnlu:\n- intent: check_status\n  examples: |\n    - tra mã [1790 7829](case_code)\n'
        "    - hồ sơ của tôi sao rồi\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["evaluate", str(data), "--model-dir", str(nlu_model_dir)])
    assert result.exit_code == 0, result.output
    assert "== intents, as given: accuracy 1.000 on 2" in result.output


def test_evaluate_empty_file_fails_clearly(nlu_model_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "empty.tsv"
    data.write_text("# nothing\n", encoding="utf-8")
    result = runner.invoke(app, ["evaluate", str(data), "--model-dir", str(nlu_model_dir)])
    assert result.exit_code == 1


def test_train_writes_model_and_fingerprint(tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", "--model-dir", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "m" / MODEL_FILE).exists() and (tmp_path / "m" / FINGERPRINT_FILE).exists()


def test_importing_the_cli_does_not_import_scikit_learn() -> None:
    """`tiengdan --help` must not pay for scikit-learn: heavy imports happen inside the commands."""
    code = "import sys, nlu.cli; print(any(m == 'sklearn' or m.startswith('sklearn.') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"
