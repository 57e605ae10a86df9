"""Poll results as a PNG: one bar chart overall, then one per commune (the largest few)."""

from __future__ import annotations

import asyncio

from bot.charts import Panel, bar_panels
from bot.store.participation import PollResults

MAX_AREAS = 4


def _draw(results: PollResults, title: str, overall: str) -> bytes:
    labels = list(results.poll.options)
    panels = [Panel(overall, labels, list(results.counts))]
    panels += [Panel(a.area_name or "—", labels, list(a.counts))
               for a in results.by_area if a.voters and a.area_name][:MAX_AREAS]
    if len(panels) == 2 and panels[1].values == panels[0].values:
        panels = panels[:1]  # one commune only: the same chart twice says nothing
    return bar_panels(panels, title=title if len(title) <= 70 else title[:69] + "…")


async def results_png(results: PollResults, title: str, overall: str) -> bytes:
    """PNG bytes of the results chart (drawn in a worker thread)."""
    return await asyncio.to_thread(_draw, results, title, overall)
