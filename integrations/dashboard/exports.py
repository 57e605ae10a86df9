"""`/opendata/cases.{csv,json,geojson}`: every matching case as a public row, streamed in batches."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot import opendata
from bot.context import AppContext
from bot.store import publicstats
from bot.store.cases import STATUSES
from bot.store.views import CaseInfo
from integrations.dashboard.figures import BadQuery, parse_area, parse_since

log = logging.getLogger(__name__)

CONTENT_TYPES = {"csv": "text/csv", "json": "application/json", "geojson": "application/geo+json"}
BATCH = 500


def _choices(raw: str | None, allowed: Sequence[str], key: str) -> list[str] | None:
    values = [v.strip() for v in (raw or "").split(",") if v.strip()]
    if not values:
        return None
    for v in values:
        if v not in allowed:
            raise BadQuery(key, value=v[:40], choices=", ".join(allowed))
    return values


async def parse_filter(ctx: AppContext, query: Mapping[str, str],
                       categories: Sequence[str]) -> publicstats.CaseFilter:
    since = parse_since(query.get("since"), ZoneInfo(ctx.settings.timezone))
    _, area_ids = await parse_area(ctx, query.get("area"))
    return publicstats.CaseFilter(
        since=since,
        statuses=_choices(query.get("status"), STATUSES, "dash.error.status"),
        categories=_choices(query.get("category"), categories, "dash.error.category"),
        area_ids=area_ids,
    )


async def _row(ctx: AppContext, case: CaseInfo) -> dict[str, Any]:
    area = await ctx.store.areas.get(case.area_id) if case.area_id is not None else None
    return opendata.public_row(case, area_code=area.code if area else None, area=area.name if area else None,
                               province=area.parent_name if area else None)


class Encoder:
    """Turns batches of public rows into the bytes of one format: head, batches, tail."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.first = True

    def head(self) -> str:
        return {"csv": opendata.csv_header(), "json": "[\n", "geojson": opendata.GEOJSON_HEAD}[self.fmt]

    def batch(self, rows: list[dict[str, Any]]) -> str:
        if self.fmt == "csv":
            return opendata.csv_rows(rows)
        parts = []
        for row in rows:
            item = opendata.geojson_feature(row) if self.fmt == "geojson" else row
            parts.append(opendata.json_item(item, self.first))
            self.first = False
        return "".join(parts)

    def tail(self) -> str:
        return "" if self.fmt == "csv" else ("\n]\n" if self.fmt == "json" else opendata.GEOJSON_TAIL)


async def stream(request: web.Request, ctx: AppContext, fmt: str, flt: publicstats.CaseFilter) -> web.StreamResponse:
    """Write the export as it is read: memory holds one batch, never the whole table."""
    response = web.StreamResponse(headers={
        "Content-Type": f"{CONTENT_TYPES[fmt]}; charset=utf-8",
        "Content-Disposition": f'inline; filename="cases.{fmt}"',
        "Access-Control-Allow-Origin": "*",
        "X-Content-Type-Options": "nosniff",
    })
    await response.prepare(request)
    encoder = Encoder(fmt)
    await response.write(encoder.head().encode())
    rows: list[dict[str, Any]] = []
    count = 0
    async for case in publicstats.iter_cases(ctx.store.cases, flt, batch=BATCH):
        rows.append(await _row(ctx, case))
        if len(rows) >= BATCH:
            await response.write(encoder.batch(rows).encode())
            count += len(rows)
            rows = []
    if rows:
        await response.write(encoder.batch(rows).encode())
        count += len(rows)
    await response.write(encoder.tail().encode())
    await response.write_eof()
    log.info("open data export format=%s rows=%d", fmt, count)
    return response


def error_json(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400, dumps=lambda o: json.dumps(o, ensure_ascii=False))
