"""Small PNG bar charts (matplotlib, Agg backend: no display needed), e.g. for /stats and poll results.

Callers pass already translated labels; the result is PNG bytes to save in the media store and
send as `Outbound.image`.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure

MAX_BARS = 12
_COLOR = "#2b6cb0"


@dataclass(frozen=True, slots=True)
class Panel:
    """One horizontal bar chart: a title, bar labels and their values."""

    title: str
    labels: Sequence[str]
    values: Sequence[float]


def bar_panels(panels: Sequence[Panel], *, title: str = "", width: float = 7.0) -> bytes:
    """Render panels stacked vertically into one PNG; the largest `MAX_BARS` bars per panel."""
    if not panels:
        raise ValueError("at least one panel")
    heights = [max(1, min(MAX_BARS, len(p.labels))) * 0.38 + 0.9 for p in panels]
    fig = Figure(figsize=(width, sum(heights) + (0.5 if title else 0)), dpi=110)
    axes = fig.subplots(len(panels), 1, squeeze=False, gridspec_kw={"height_ratios": heights})
    for ax, panel in zip((row[0] for row in axes), panels, strict=True):
        pairs = sorted(zip(panel.labels, panel.values, strict=True), key=lambda p: p[1], reverse=True)[:MAX_BARS]
        pairs.reverse()  # biggest on top
        labels = [_short(label) for label, _ in pairs]
        values = [value for _, value in pairs]
        bars = ax.barh(range(len(values)), values, color=_COLOR)
        ax.set_yticks(range(len(values)), labels)
        ax.set_title(_short(panel.title, 60), loc="left", fontsize=11)
        ax.bar_label(bars, fmt="%g", padding=3, fontsize=9)
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(axis="y", labelsize=9)
        ax.margins(x=0.15)
    if title:
        fig.suptitle(_short(title, 70), fontsize=12)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _short(label: str, limit: int = 28) -> str:
    """Without emoji (chart fonts lack them) and at most `limit` characters."""
    text = "".join(ch for ch in label if unicodedata.category(ch) != "So" and ch not in "\ufe0f\u200d").strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
