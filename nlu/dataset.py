"""Read Rasa 3.1 NLU YAML (and TSV) into plain (text, label) examples for the embedded models.

Conventions of `nlu/data/`:
* `- intent: <name>` blocks are intents; blocks named `category_<name>` are feedback categories
  (kept in `categories.yml`). Category examples are also `file_feedback` examples for the intent
  model: a problem description *is* a request to file feedback.
* Entity annotations (`[0912345678](phone)`, `[x]{"entity": ...}`) are stripped to their text.
* A real Rasa server trains on the same directory unchanged (`category_*` become Rasa intents,
  mapped back by `integrations/rasa_nlu.py`).
* `regex`, `lookup` and `synonym` blocks are for Rasa; the embedded entity extractors implement
  the same entities in code.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

CATEGORY_PREFIX = "category_"
FEEDBACK_INTENT = "file_feedback"

_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")
_EXAMPLE_LINE = re.compile(r"^\s*-\s?(.*)$")


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: str


@dataclass(slots=True)
class TrainingData:
    """Examples for the two models: intents (categories folded into file_feedback) and categories."""

    intents: list[Example] = field(default_factory=list)
    categories: list[Example] = field(default_factory=list)


def strip_annotations(text: str) -> str:
    """`phản ánh ở [Hồng Hà](area)` → `phản ánh ở Hồng Hà`."""
    return _ANNOTATION.sub(r"\1", text)


def parse_examples_block(block: str) -> list[str]:
    """Rasa's `examples: |` block: one `- text` per line."""
    out = []
    for line in block.splitlines():
        m = _EXAMPLE_LINE.match(line)
        if m and m.group(1).strip():
            out.append(strip_annotations(m.group(1).strip()))
    return out


def read_rasa_yaml(path: Path) -> list[Example]:
    """All intent examples of one Rasa NLU YAML file (other block kinds are skipped)."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    items = doc.get("nlu") or [] if isinstance(doc, dict) else []
    examples: list[Example] = []
    for item in items:
        if not isinstance(item, dict) or "intent" not in item:
            continue
        block = item.get("examples") or ""
        if isinstance(block, str):
            texts = parse_examples_block(block)
        else:  # Rasa also allows a list of {text: ...} mappings
            texts = [strip_annotations(str(e.get("text", ""))) for e in block if isinstance(e, dict)]
        examples.extend(Example(t, str(item["intent"])) for t in texts if t)
    return examples


def read_tsv(path: Path) -> list[Example]:
    """`text<TAB>label` lines; blank lines and `#` comments skipped."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#") or "\t" not in line:
            continue
        text, label = line.rsplit("\t", 1)
        out.append(Example(strip_annotations(text.strip()), label.strip()))
    return out


def read_examples(path: Path) -> list[Example]:
    """A Rasa YAML file (`.yml`/`.yaml`) or a TSV file, by extension."""
    if path.suffix.lower() in {".yml", ".yaml"}:
        return read_rasa_yaml(path)
    return read_tsv(path)


def data_files(data_dir: Path) -> list[Path]:
    return sorted(p for p in data_dir.rglob("*") if p.suffix.lower() in {".yml", ".yaml"} and p.is_file())


def fingerprint(data_dir: Path, extra: Iterable[str] = ()) -> str:
    """A hash of every data file (path and bytes) plus `extra` (model version), to detect stale models."""
    h = hashlib.sha256()
    for item in extra:
        h.update(item.encode())
    for path in data_files(data_dir):
        h.update(str(path.relative_to(data_dir)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def load_training_data(data_dir: Path) -> TrainingData:
    """Split the examples of every YAML file under `data_dir` into the two training sets."""
    data = TrainingData()
    for path in data_files(data_dir):
        for ex in read_rasa_yaml(path):
            if ex.label.startswith(CATEGORY_PREFIX):
                data.categories.append(Example(ex.text, ex.label.removeprefix(CATEGORY_PREFIX)))
                data.intents.append(Example(ex.text, FEEDBACK_INTENT))
            else:
                data.intents.append(ex)
    return data
