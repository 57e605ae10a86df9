"""Demo data for `tiengdan demo`: areas, a few reports in Huế and Hà Nội, and whatever later
features contribute (officials, a poll, a consultation).

Each loader is `async def load(ctx) -> str` returning a short summary, and must be idempotent
(running `demo` twice adds nothing the second time). Loaders are listed as "module:function"
strings and imported lazily, so a feature adds its demo data with one line in `LOADERS` and
a missing module is skipped rather than breaking the command.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.bootstrap import ensure_areas
from bot.context import AppContext

log = logging.getLogger(__name__)

Loader = Callable[[AppContext], Awaitable[str]]
DEMO_CHANNEL = "demo"
CASES_FILE = Path(__file__).with_name("demo_cases.yml")

LOADERS: list[tuple[str, str]] = [
    ("areas", "bot.demo:load_areas"),
    ("cases", "bot.demo:load_cases"),
    ("officials", "bot.demo:load_officials"),
    ("participation", "bot.demo:load_participation"),
]


@dataclass(frozen=True, slots=True)
class DemoStep:
    name: str
    loader: Loader


def steps(specs: list[tuple[str, str]] | None = None) -> list[DemoStep]:
    """The loaders that exist now, in order; absent modules are skipped with a log line."""
    found = []
    for name, spec in specs if specs is not None else LOADERS:
        module_name, _, attr = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
                log.info("demo loader %s skipped: %s not present", name, module_name)
                continue
            raise
        found.append(DemoStep(name, getattr(module, attr)))
    return found


async def run(ctx: AppContext, on_step: Callable[[str], None] | None = None) -> dict[str, str]:
    """Run every loader; returns {step name: summary}."""
    summaries: dict[str, str] = {}
    for step in steps():
        if on_step is not None:
            on_step(step.name)
        summaries[step.name] = await step.loader(ctx)
    return summaries


async def load_areas(ctx: AppContext) -> str:
    loaded = await ensure_areas(ctx.store)
    return f"areas={await ctx.store.areas.count()} new={loaded}"


async def load_cases(ctx: AppContext) -> str:
    """Demo citizens and their reports; skipped for citizens who already have cases."""
    data = await asyncio.to_thread(_read_cases_file)
    names = {c["id"]: c["name"] for c in data["citizens"]}
    created = skipped = 0
    citizen_ids: dict[str, int] = {}
    for demo_id, name in names.items():
        citizen = await ctx.store.citizens.get_or_create(DEMO_CHANNEL, demo_id, display_name=name, locale="vi")
        citizen_ids[demo_id] = citizen.id
    already = {demo_id for demo_id, cid in citizen_ids.items()
               if await ctx.store.cases.list_for_citizen(cid, limit=1)}
    for item in data["cases"]:
        demo_id = item["citizen"]
        if demo_id in already:
            skipped += 1
            continue
        matches = await ctx.store.areas.search(item["area"], level="commune", limit=1)
        area = matches[0][0] if matches else None
        await ctx.store.cases.create(
            citizen_ids[demo_id],
            category=item["category"],
            description=item["description"],
            area_id=area.id if area else None,
            lat=item.get("lat", area.lat if area else None),
            lon=item.get("lon", area.lon if area else None),
            anonymous=bool(item.get("anonymous", False)),
            channel=DEMO_CHANNEL,
            priority=item.get("priority", "normal"),
        )
        created += 1
    return f"cases created={created} skipped={skipped}"


def _read_cases_file() -> dict[str, Any]:
    with CASES_FILE.open(encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.safe_load(fh)
    return data


PARTICIPATION_FILE = Path(__file__).with_name("demo_participation.yml")


async def _area_codes(ctx: AppContext, names: list[str]) -> list[str]:
    codes = []
    for name in names:
        matches = await ctx.store.areas.search(name, level="commune", limit=1)
        if matches:
            codes.append(matches[0][0].code)
    return codes


def _read_participation_file() -> dict[str, Any]:
    with PARTICIPATION_FILE.open(encoding="utf-8") as fh:
        return dict(yaml.safe_load(fh))


async def load_officials(ctx: AppContext) -> str:
    """Demo officials: `tiengdan chat --as-official --user official-1` is an admin."""
    data = await asyncio.to_thread(_read_participation_file)
    for item in data["officials"]:
        await ctx.store.officials.add(channel=item["channel"], channel_user_id=item["user_id"], role=item["role"],
                                      unit=item["unit"], area_codes=await _area_codes(ctx, item["areas"]))
    return f"officials={len(data['officials'])}"


async def load_participation(ctx: AppContext) -> str:
    """One open poll and one open consultation in a Huế ward (skipped when some exist)."""
    from datetime import timedelta

    from bot.store.participation import participation_repo

    repo = participation_repo(ctx.store)
    data = await asyncio.to_thread(_read_participation_file)
    now = ctx.clock.now()
    made = []
    if not await repo.list_polls(limit=1):
        poll = data["poll"]
        await repo.create_poll(question=poll["question"], options=poll["options"],
                               area_codes=await _area_codes(ctx, poll["areas"]),
                               closes_at=now + timedelta(days=poll["days_open"]))
        made.append("poll")
    if not await repo.list_consultations(limit=1):
        item = data["consultation"]
        await repo.create_consultation(title=item["title"], summary=item["summary"], link=item["link"],
                                       area_codes=await _area_codes(ctx, item["areas"]),
                                       deadline=now + timedelta(days=item["days_open"]),
                                       question=item["question"], options=item["options"])
        made.append("consultation")
    return "created=" + (",".join(made) or "none")
