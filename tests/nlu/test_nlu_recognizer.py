"""The embedded recognizer as dialogs use it: realistic messages, bad input, model lifecycle."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from nlu import NLU, EmbeddedNLU, ParseResult
from nlu.embedded import MAX_CHARS
from nlu.train import DEFAULT_DATA_DIR, FINGERPRINT_FILE, MODEL_FILE, ensure_models

from .conftest import TODAY


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("xin chào", "greet"),
        ("chao ad", "greet"),
        ("cảm ơn nhiều nha", "thank"),
        ("tro giup", "help"),
        ("tôi muốn phản ánh", "file_feedback"),
        ("phan anh duong ngap", "file_feedback"),
        ("đèn đường hư r mn ơi", "file_feedback"),
        ("mã 1790 7829 sao rồi", "check_status"),
        ("1790-7829", "check_status"),
        ("phản ánh của tui tới đâu rồi ad", "check_status"),
        ("cho tôi bỏ phiếu", "vote"),
        ("gop y du thao quy hoach", "answer_consultation"),
        ("đăng ký nhận tin phường Hồng Hà", "subscribe"),
        ("STOP", "unsubscribe"),
        ("English please", "change_language"),
        ("cho gặp cán bộ, sđt 0912345678", "human_agent"),
        ("dạ vâng", "affirm"),
        ("ko", "deny"),
        ("huỷ", "cancel"),
        ("thôi khỏi gửi", "cancel"),
    ],
)
def test_intents_of_realistic_messages(embedded: EmbeddedNLU, text: str, intent: str) -> None:
    assert embedded.parse_sync(text).intent["name"] == intent


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("đường ngập nửa bánh xe ở phường Hồng Hà", "flooding_drainage"),
        ("rác thải bốc mùi quá trời", "environment_waste"),
        ("ĐÈN ĐƯỜNG HỎNG CẢ THÁNG NAY", "traffic_roads"),
        ("cup dien tu sang toi gio", "utilities_power_water"),
        ("mấy thanh niên tụ tập đánh nhau ngoài ngõ", "public_order"),
    ],
)
def test_problem_descriptions_get_a_category(embedded: EmbeddedNLU, text: str, category: str) -> None:
    result = embedded.parse_sync(text)
    assert result.intent["name"] == "file_feedback"
    assert result.category is not None and result.category["name"] == category


def test_small_talk_has_no_category(embedded: EmbeddedNLU) -> None:
    for text in ("xin chào", "ok", "cảm ơn", "hủy"):
        assert embedded.parse_sync(text).category is None


def test_accents_do_not_matter(embedded: EmbeddedNLU) -> None:
    a = embedded.parse_sync("phản ánh đường ngập")
    b = embedded.parse_sync("phan anh duong ngap")
    assert a.intent["name"] == b.intent["name"] == "file_feedback"
    assert a.category and b.category and a.category["name"] == b.category["name"]


def test_fallback_keeps_candidates(embedded: EmbeddedNLU) -> None:
    result = embedded.parse_sync("thời tiết hôm nay thế nào")
    assert result.intent["name"] == "nlu_fallback"
    assert result.intent["confidence"] < embedded.threshold
    assert result.intent_ranking[0]["name"] == "nlu_fallback"
    assert len(result.intent_ranking) > 3
    assert any(s["name"] == "out_of_scope" for s in result.intent_ranking)


def test_threshold_is_configurable(nlu_model_dir: Path) -> None:
    strict = EmbeddedNLU.load(nlu_model_dir, DEFAULT_DATA_DIR, threshold=0.999)
    assert strict.parse_sync("tôi muốn phản ánh").intent["name"] == "nlu_fallback"


def test_entities_come_with_the_parse(embedded: EmbeddedNLU) -> None:
    text = "ngập từ hôm qua ở phường Hồng Hà, gọi 0912 345 678"
    result = embedded.parse_sync(text)
    found = {e["entity"]: e for e in result.entities}
    assert found["date"]["value"] == "2026-01-06" and TODAY.isoformat() == "2026-01-07"
    assert found["area"]["value"] == "Phường Hồng Hà"
    assert found["phone"]["value"] == "0912345678"
    assert text[found["phone"]["start"] : found["phone"]["end"]] == "0912 345 678"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "🙂🙂🙂",
        "x" * 10_000,
        "phản ánh " * 2_000,
        "SELECT * FROM cases; DROP TABLE citizens;--",
        "<script>alert('x')</script><b>hi</b>",
        "ĐƯỜNG NGẬP QUÁ TRỜI LUÔN",
        "hello mình muốn report cái đèn đường bị broken",
        "\x00\x01\ufffd\u202e",
        "１２３４ ５６７８",
    ],
)
async def test_any_input_gives_a_valid_result(embedded: EmbeddedNLU, text: str) -> None:
    result = await embedded.parse(text)
    assert isinstance(result, ParseResult)
    assert result.text == text
    assert 0.0 <= result.intent["confidence"] <= 1.0
    rasa = result.to_rasa()
    assert set(rasa) == {"text", "intent", "entities", "intent_ranking", "category"}
    for e in result.entities:
        assert 0 <= e["start"] < e["end"] <= min(len(text), MAX_CHARS)


@pytest.mark.parametrize("text", ["", "🙂🙂", "asdfgh qwerty", "SELECT * FROM users"])
def test_junk_is_low_confidence(embedded: EmbeddedNLU, text: str) -> None:
    assert embedded.parse_sync(text).intent["name"] == "nlu_fallback"


def test_implements_the_protocol(embedded: EmbeddedNLU) -> None:
    assert isinstance(embedded, NLU)


def test_loading_a_trained_model_is_fast(nlu_model_dir: Path) -> None:
    started = time.perf_counter()
    EmbeddedNLU.load(nlu_model_dir, DEFAULT_DATA_DIR)
    assert time.perf_counter() - started < 1.0


def test_stale_model_is_retrained_on_load(tmp_path: Path, nlu_model_dir: Path) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, data_dir)
    model_dir = tmp_path / "models"
    shutil.copytree(nlu_model_dir, model_dir)
    before = (model_dir / FINGERPRINT_FILE).read_text()
    # Same data → the saved model is reused as is.
    ensure_models(model_dir, data_dir)
    assert (model_dir / FINGERPRINT_FILE).read_text() == before
    # A new greeting in the data → fingerprint changes → retrained and saved on first use.
    intents = data_dir / "intents.yml"
    intents.write_text(
        intents.read_text(encoding="utf-8").replace("    - xin chào\n", "    - xin chào\n    - chào xóm trọ\n", 1),
        encoding="utf-8",
    )
    nlu = EmbeddedNLU.load(model_dir, data_dir)
    assert (model_dir / FINGERPRINT_FILE).read_text() != before
    assert nlu.parse_sync("chào xóm trọ").intent["name"] == "greet"


def test_corrupt_model_file_is_replaced(tmp_path: Path, nlu_model_dir: Path) -> None:
    model_dir = tmp_path / "models"
    shutil.copytree(nlu_model_dir, model_dir)
    (model_dir / MODEL_FILE).write_bytes(b"not a pickle")
    nlu = EmbeddedNLU.load(model_dir, DEFAULT_DATA_DIR)
    assert nlu.parse_sync("xin chào").intent["name"] == "greet"


def test_importing_nlu_does_not_load_sklearn() -> None:
    import subprocess
    import sys

    code = "import sys, nlu; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
