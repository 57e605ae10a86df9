"""Benchmark the embedded NLU: cold start, throughput, p50/p95 latency, memory.

Usage: `.venv/bin/python bench/nlu.py [--model-dir DIR] [--n 2000]`. The model is trained first if
missing; cold start is measured in a fresh interpreter (import + load, model already on disk).
Parsing needs numpy only (nlu/linear.py); scikit-learn is imported only when (re)training.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MESSAGES = [
    "xin chào",
    "đường ngập quá ở phường Hồng Hà từ hôm qua",
    "phan anh den duong hong o xa tan tien",
    "mã 1790 7829 sao rồi ad",
    "ko",
    "dạ vâng",
    "cho gặp cán bộ, sđt 0912.345.678",
    "rác thải bốc mùi hôi thối cả tuần nay không ai thu gom, đề nghị phường xử lý gấp",
    "tôi chọn phương án hai",
    "English please",
    "SELECT * FROM users",
    "🙂",
]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cold_start(model_dir: Path) -> float:
    code = (
        "import time; t=time.perf_counter(); from pathlib import Path; from nlu import EmbeddedNLU; "
        f"EmbeddedNLU.load(Path({str(model_dir)!r})); print(time.perf_counter()-t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model-dir", type=Path, default=ROOT / "nlu" / "models")
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()

    from nlu.train import ensure_models

    t = time.perf_counter()
    ensure_models(args.model_dir)
    print(f"ensure model (train if stale): {time.perf_counter() - t:.2f} s")
    cold = [cold_start(args.model_dir) for _ in range(3)]
    print(f"cold start (fresh process: import + load): min {min(cold):.3f} s, max {max(cold):.3f} s")

    from nlu.embedded import EmbeddedNLU

    base = rss_mb()
    t = time.perf_counter()
    nlu = EmbeddedNLU.load(args.model_dir)
    print(f"warm load (modules already imported): {time.perf_counter() - t:.3f} s")
    print(f"scikit-learn imported to parse: {'sklearn' in sys.modules}")
    print(f"RSS: {rss_mb():.0f} MB total, +{rss_mb() - base:.0f} MB for the loaded model")

    for m in MESSAGES:  # warm-up
        nlu.parse_sync(m)
    latencies = []
    started = time.perf_counter()
    for i in range(args.n):
        t0 = time.perf_counter()
        nlu.parse_sync(MESSAGES[i % len(MESSAGES)])
        latencies.append((time.perf_counter() - t0) * 1000)
    total = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100)
    print(f"parses: {args.n} in {total:.2f} s → {args.n / total:.0f} parses/s")
    print(f"latency: p50 {q[49]:.2f} ms, p95 {q[94]:.2f} ms, max {max(latencies):.2f} ms")
    long_text = "đường ngập " * 1000
    t0 = time.perf_counter()
    nlu.parse_sync(long_text)
    print(f"10 kB message: {(time.perf_counter() - t0) * 1000:.1f} ms")
    print(f"RSS after run: {rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
