"""Words for poll results and broadcast progress, shared by dialogs, the renderer and the CLI."""

from __future__ import annotations

from bot.i18n import Catalogs
from bot.store.broadcasts import BroadcastProgress
from bot.store.participation import PollResults


def _pct(count: int, total: int) -> int:
    return round(100 * count / total) if total else 0


def _lines(i18n: Catalogs, locale: str, labels: tuple[str, ...], counts: tuple[int, ...], voters: int) -> list[str]:
    return [i18n.t(locale, "part.results.line", n=i, label=label, count=counts[i - 1],
                   pct=_pct(counts[i - 1], voters)) for i, label in enumerate(labels, start=1)]


def results_text(i18n: Catalogs, locale: str, results: PollResults, *, area_id: int | None = None,
                 areas: int = 0) -> str:
    """Overall counts; then the citizen's commune (`area_id`) or the `areas` largest communes."""
    poll = results.poll
    lines = [i18n.t(locale, "part.results.header", question=poll.question)]
    if not results.voters:
        lines.append(i18n.t(locale, "part.results.none"))
        return "\n".join(lines)
    lines.append(i18n.t(locale, "part.results.voters", count=results.voters))
    lines += _lines(i18n, locale, poll.options, results.counts, results.voters)
    tallies = []
    mine = results.for_area(area_id) if area_id is not None else None
    if mine is not None and mine.area_name:
        tallies.append(mine)
    elif areas:
        tallies = [t for t in results.by_area if t.area_name][:areas]
    for tally in tallies:
        lines.append("")
        lines.append(i18n.t(locale, "part.results.area", area=tally.area_name, count=tally.voters))
        lines += _lines(i18n, locale, poll.options, tally.counts, tally.voters)
    return "\n".join(lines)


def progress_text(i18n: Catalogs, locale: str, progress: BroadcastProgress) -> str:
    b = progress.broadcast
    total = max(progress.total, b.planned_count)
    done = progress.sent + progress.failed + progress.held
    return i18n.t(locale, "part.bc.status", id=b.id, state=i18n.t(locale, f"part.bc.state.{b.status}"),
                  total=total, sent=progress.sent, failed=progress.failed, held=progress.held,
                  pending=progress.pending, pct=_pct(done, total))
