"""`tiengdan nlu …`: parse a message, (re)train the models, evaluate on a labelled file.

Heavy modules (scikit-learn, the models) are imported inside the commands, so `tiengdan --help`
and every other command stay fast.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import typer

from nlu.paths import DEFAULT_DATA_DIR, DEFAULT_MODEL_DIR

app = typer.Typer(help="Vietnamese NLU: parse, train, evaluate.", no_args_is_help=True)

ModelDir = typer.Option(DEFAULT_MODEL_DIR, "--model-dir", help="Where the trained model is kept.")
DataDir = typer.Option(DEFAULT_DATA_DIR, "--data-dir", help="Rasa YAML training data.")
Threshold = typer.Option(0.45, "--threshold", min=0.0, max=1.0, help="Below this: nlu_fallback.")


@app.command()
def parse(
    text: str,
    model_dir: Path = ModelDir,
    data_dir: Path = DataDir,
    threshold: float = Threshold,
) -> None:
    """Print the Rasa-shaped parse of TEXT as JSON."""
    from nlu.embedded import EmbeddedNLU

    nlu = EmbeddedNLU.load(model_dir, data_dir, threshold)
    typer.echo(json.dumps(nlu.parse_sync(text).to_rasa(), ensure_ascii=False, indent=2))


@app.command()
def train(model_dir: Path = ModelDir, data_dir: Path = DataDir) -> None:
    """Train the intent and category models from DATA_DIR and save them to MODEL_DIR."""
    from nlu.train import save_models, train_models

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    models = train_models(data_dir)
    save_models(models, model_dir)
    typer.echo(f"saved {model_dir} ({models.fingerprint[:12]})")


@app.command()
def evaluate(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Rasa YAML or TSV text<TAB>label."),
    model_dir: Path = ModelDir,
    data_dir: Path = DataDir,
    threshold: float = Threshold,
) -> None:
    """Per-label precision/recall/F1 and confusion tables, as given and without diacritics."""
    from nlu.dataset import read_examples
    from nlu.embedded import EmbeddedNLU
    from nlu.evaluate import evaluate as run_evaluation

    examples = read_examples(file)
    if not examples:
        typer.echo(f"no labelled examples in {file}", err=True)
        raise typer.Exit(code=1)
    nlu = EmbeddedNLU.load(model_dir, data_dir, threshold)
    for report in run_evaluation(nlu.parse_sync, examples):
        typer.echo(report.render())
        typer.echo("")
