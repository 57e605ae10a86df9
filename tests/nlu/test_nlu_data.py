"""The training data itself: coverage, size, no contradictions, valid Rasa YAML."""

from __future__ import annotations

from collections import Counter, defaultdict

import yaml

from nlu.dataset import CATEGORY_PREFIX, load_training_data, read_rasa_yaml
from nlu.train import DEFAULT_DATA_DIR

INTENTS = {
    "greet", "goodbye", "thank", "help", "file_feedback", "check_status", "vote", "answer_consultation",
    "subscribe", "unsubscribe", "change_language", "human_agent", "affirm", "deny", "cancel",
}  # fmt: skip
CATEGORIES = {
    "traffic_roads", "environment_waste", "flooding_drainage", "utilities_power_water", "public_order",
    "land_construction", "health", "education", "admin_procedures", "agriculture_irrigation", "other",
}  # fmt: skip


def test_every_intent_has_at_least_40_own_examples() -> None:
    counts = Counter(e.label for e in read_rasa_yaml(DEFAULT_DATA_DIR / "intents.yml"))
    assert set(counts) >= INTENTS
    assert {name: n for name, n in counts.items() if n < 40} == {}


def test_every_category_has_at_least_30_examples() -> None:
    counts = Counter(e.label for e in load_training_data(DEFAULT_DATA_DIR).categories)
    assert set(counts) == CATEGORIES
    assert {name: n for name, n in counts.items() if n < 30} == {}


def test_no_example_is_in_two_intents_or_categories() -> None:
    labels: dict[str, set[str]] = defaultdict(set)
    for path in DEFAULT_DATA_DIR.glob("*.yml"):
        for example in read_rasa_yaml(path):
            labels[example.text.strip().lower()].add(example.label)
    assert {text: names for text, names in labels.items() if len(names) > 1} == {}


def test_files_are_rasa_31_yaml_with_annotations() -> None:
    for path in DEFAULT_DATA_DIR.rglob("*.yml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert doc["version"] == "3.1", path
        assert isinstance(doc["nlu"], list), path
    raw = (DEFAULT_DATA_DIR / "intents.yml").read_text(encoding="utf-8")
    for entity in ("(phone)", "(case_code)", "(area)", "(number)", "(date)"):
        assert entity in raw


def test_area_lookup_covers_all_units() -> None:
    doc = yaml.safe_load((DEFAULT_DATA_DIR / "lookups" / "areas.yml").read_text(encoding="utf-8"))
    [lookup] = doc["nlu"]
    names = [line[2:] for line in lookup["examples"].splitlines() if line.startswith("- ")]
    assert lookup["lookup"] == "area"
    assert {"Phường Hồng Hà", "Hồng Hà", "Thành phố Hà Nội", "Tỉnh Cà Mau", "Sài Gòn"} <= set(names)
    assert len(names) > 3000


def test_category_examples_also_train_file_feedback() -> None:
    data = load_training_data(DEFAULT_DATA_DIR)
    feedback = {e.text for e in data.intents if e.label == "file_feedback"}
    assert {e.text for e in data.categories} <= feedback
    assert not any(e.label.startswith(CATEGORY_PREFIX) for e in data.intents)
