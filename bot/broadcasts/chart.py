"""Poll results as a PNG bar chart (one bar per option; stacked by commune when several)."""

from __future__ import annotations

import asyncio
import io

from bot.store.participation import PollResults

MAX_AREAS = 6


def _draw(results: PollResults, title: str, other_label: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    labels = [label if len(label) <= 28 else label[:27] + "…" for label in results.poll.options]
    fig = Figure(figsize=(7, 1.2 + 0.55 * len(labels)), dpi=100)
    ax = fig.add_subplot()
    positions = list(range(len(labels)))[::-1]
    left = [0] * len(labels)
    areas = [a for a in results.by_area if a.voters]
    shown, rest = areas[:MAX_AREAS], areas[MAX_AREAS:]
    groups = [(a.area_name or other_label, a.counts) for a in shown]
    if rest:
        groups.append((other_label, tuple(sum(a.counts[i] for a in rest) for i in range(len(labels)))))
    if not groups:
        groups = [(other_label, results.counts)]
    for name, counts in groups:
        ax.barh(positions, counts, left=left, label=name)
        left = [x + c for x, c in zip(left, counts, strict=True)]
    for y, total in zip(positions, results.counts, strict=True):
        ax.text(total, y, f" {total}", va="center")
    ax.set_yticks(positions, labels)
    ax.set_title(title if len(title) <= 60 else title[:59] + "…")
    if len(groups) > 1:
        ax.legend(fontsize="small", loc="lower right")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


async def results_png(results: PollResults, title: str, other_label: str) -> bytes:
    """PNG bytes of the results chart (drawn in a worker thread)."""
    return await asyncio.to_thread(_draw, results, title, other_label)
