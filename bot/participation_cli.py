"""CLI for participation: `broadcast status|plan`, `consult export`, `analyze consultation`.

Mounted by `bot/cli.py` (SUBAPPS): ("broadcast", "bot.participation_cli:broadcast_app"),
("consult", "bot.participation_cli:consult_app"), ("analyze", "bot.participation_cli:analyze_app").
Output is for operators (English, plain); citizens never see it.
"""

from __future__ import annotations

import asyncio
import csv
import json
import sys
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import typer

from bot.config import Settings

broadcast_app = typer.Typer(no_args_is_help=True, help="Broadcasts: progress and planning.")
consult_app = typer.Typer(no_args_is_help=True, help="Consultations: export comments.")
analyze_app = typer.Typer(no_args_is_help=True, help="Analytics over participation data.")

STOP_WORDS = frozenset(
    "và là của có cho các những được này với không thì mà để một ở trong khi đã sẽ rất cũng như tôi chúng "
    "ta mình bạn em anh chị nên cần phải hơn vì nhưng hay hoặc thế nào gì đó đây ra vào lên xuống rồi lại "
    "the a an and or of to in is are be for on with that this it".split())


def _settings(ctx: typer.Context) -> Settings:
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        root.obj = Settings()
    return root.obj


@asynccontextmanager
async def _store(settings: Settings) -> AsyncIterator[Any]:
    from bot.clock import SystemClock
    from bot.store import Store

    store = await Store.open(settings.database_url, settings.media_dir, SystemClock())
    try:
        yield store
    finally:
        await store.close()


# --- broadcasts -----------------------------------------------------------------------------


@broadcast_app.command("status")
def broadcast_status(ctx: typer.Context, broadcast_id: int = typer.Argument(..., metavar="ID"),
                     as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Sent / failed / held (Zalo window or cap) / pending counts of one broadcast."""
    data = asyncio.run(_status(_settings(ctx), broadcast_id))
    if data is None:
        typer.echo(f"broadcast {broadcast_id} not found", err=True)
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False))
        return
    typer.echo(f"broadcast {data['id']} ({data['kind']}): {data['status']}")
    typer.echo(f"recipients {data['total']}  sent {data['sent']}  failed {data['failed']}  "
               f"held {data['held']}  pending {data['pending']}  done {data['percent']}%")
    for status, count in sorted(data["counts"].items()):
        typer.echo(f"  {status:<14}{count}")


async def _status(settings: Settings, broadcast_id: int) -> dict[str, Any] | None:
    from bot.store.broadcasts import broadcast_repo

    async with _store(settings) as store:
        repo = broadcast_repo(store)
        if await repo.get(broadcast_id) is None:
            return None
        p = await repo.progress(broadcast_id)
        total = max(p.total, p.broadcast.planned_count)
        done = p.sent + p.failed + p.held
        return {"id": p.broadcast.id, "kind": p.broadcast.kind, "status": p.broadcast.status, "total": total,
                "sent": p.sent, "failed": p.failed, "held": p.held, "pending": p.pending,
                "percent": round(100 * done / total) if total else 0, "counts": p.counts}


@broadcast_app.command("plan")
def broadcast_plan(ctx: typer.Context, chunk: int = typer.Option(20_000, help="Recipients per transaction.")) -> None:
    """Close due polls and finish planning every unfinished broadcast (resumes after a crash)."""
    count = asyncio.run(_plan(_settings(ctx), chunk))
    typer.echo(f"planned {count} broadcast(s)")


async def _plan(settings: Settings, chunk: int) -> int:
    from bot.broadcasts.planner import BroadcastPlanner

    async with _store(settings) as store:
        return await BroadcastPlanner(store, chunk=chunk).run_once()


# --- consultations --------------------------------------------------------------------------

CSV_FIELDS = ("id", "created_at", "area", "choice", "text", "voice_notes")


@consult_app.command("export")
def consult_export(ctx: typer.Context, consultation_id: int = typer.Argument(..., metavar="ID"),
                   out: Path | None = typer.Option(None, "--out", "-o", help="CSV file (default: stdout).")) -> None:
    """All comments of a consultation as CSV (no names, phone numbers or channel ids)."""
    settings = _settings(ctx)
    if out is None:
        n = asyncio.run(_export(settings, consultation_id, sys.stdout))
    else:
        with out.open("w", newline="", encoding="utf-8") as handle:
            n = asyncio.run(_export(settings, consultation_id, handle))
    typer.echo(f"{n} comment(s)", err=True)


async def _export(settings: Settings, consultation_id: int, handle: Any) -> int:
    from bot.store.participation import participation_repo

    writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
    writer.writeheader()
    n = 0
    async with _store(settings) as store:
        async for c in participation_repo(store).iter_comments(consultation_id):
            writer.writerow({"id": c.id, "created_at": c.created_at.isoformat(), "area": c.area_name or "",
                             "choice": c.choice or "", "text": c.text or "", "voice_notes": c.voice_count})
            n += 1
    return n


# --- analysis -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Theme:
    keywords: list[str]
    count: int
    examples: list[str]


@dataclass(frozen=True)
class Analysis:
    comments: int
    with_text: int
    voice_only: int
    choices: dict[str, int]
    by_area: dict[str, int]
    keywords: list[str]
    themes: list[Theme]


def themes_of(texts: Sequence[str], *, max_themes: int = 5, top: int = 5) -> tuple[list[str], list[Theme]]:
    """Top TF-IDF keywords overall, and k-means clusters labelled by their top terms."""
    docs = [t for t in texts if t and t.strip()]
    if not docs:
        return [], []
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), stop_words=list(STOP_WORDS), min_df=1, sublinear_tf=True,
                                 token_pattern=r"(?u)\b\w\w+\b")
    try:
        matrix = vectorizer.fit_transform(docs)
    except ValueError:  # only stop words
        return [], []
    terms = vectorizer.get_feature_names_out()
    weights = matrix.sum(axis=0).A1
    keywords = [str(terms[i]) for i in weights.argsort()[::-1][:top * 2]]
    k = min(max_themes, len(docs) // 3)
    if k < 2:
        return keywords, [Theme(keywords=keywords[:top], count=len(docs), examples=list(docs[:2]))]
    model = KMeans(n_clusters=k, n_init=10, random_state=0).fit(matrix)
    themes = []
    for label in range(k):
        members = [i for i, x in enumerate(model.labels_) if x == label]
        order = model.cluster_centers_[label].argsort()[::-1][:top]
        themes.append(Theme(keywords=[str(terms[i]) for i in order], count=len(members),
                            examples=[docs[i][:160] for i in members[:2]]))
    themes.sort(key=lambda t: -t.count)
    return keywords, themes


async def analyze(store: Any, consultation_id: int) -> Analysis:
    """Counts (by choice, by commune, voice-only) and themes of one consultation's comments."""
    from bot.store.participation import participation_repo

    texts: list[str] = []
    areas: Counter[str] = Counter()
    total = voice_only = 0
    repo = participation_repo(store)
    async for c in repo.iter_comments(consultation_id):
        total += 1
        areas[c.area_name or "-"] += 1
        if c.text:
            texts.append(c.text)
        elif c.voice_count:
            voice_only += 1
    keywords, themes = await asyncio.to_thread(themes_of, texts)
    return Analysis(comments=total, with_text=len(texts), voice_only=voice_only,
                    choices=await repo.choice_counts(consultation_id), by_area=dict(areas.most_common()),
                    keywords=keywords, themes=themes)


@analyze_app.command("consultation")
def analyze_consultation(ctx: typer.Context, consultation_id: int = typer.Argument(..., metavar="ID"),
                         as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Simple themes (TF-IDF keywords, k-means clusters) and counts for one consultation."""
    result = asyncio.run(_analyze(_settings(ctx), consultation_id))
    if result is None:
        typer.echo(f"consultation {consultation_id} not found", err=True)
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps(asdict(result), ensure_ascii=False))
        return
    typer.echo(f"comments {result.comments} (text {result.with_text}, voice only {result.voice_only})")
    for choice, n in result.choices.items():
        typer.echo(f"  choice {choice}: {n}")
    for name, n in result.by_area.items():
        typer.echo(f"  area {name}: {n}")
    typer.echo("keywords: " + ", ".join(result.keywords))
    for i, theme in enumerate(result.themes, start=1):
        typer.echo(f"theme {i} ({theme.count}): {', '.join(theme.keywords)}")
        for example in theme.examples:
            typer.echo(f"    “{example}”")


async def _analyze(settings: Settings, consultation_id: int) -> Analysis | None:
    from bot.store.participation import participation_repo

    async with _store(settings) as store:
        if await participation_repo(store).get_consultation(consultation_id) is None:
            return None
        return await analyze(store, consultation_id)
