"""The public transparency pages: `/dashboard`, `/api/stats.json` and `/opendata/cases.*`.

Everything here is read-only and PII-free: counts, medians and deadline shares for the page and
its JSON twin, and case rows redacted by `bot.opendata` for the downloads.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from aiohttp import web

from bot.context import AppContext
from integrations.dashboard import exports
from integrations.dashboard.figures import BadQuery, compute, parse_scope
from integrations.dashboard.page import Page

log = logging.getLogger(__name__)

PAGE_HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                                "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "public, max-age=60",
}
API_HEADERS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=60"}


class Dashboard:
    def __init__(self, ctx: AppContext, categories: Sequence[str]) -> None:
        self.ctx = ctx
        self.categories = tuple(categories)

    def _locale(self, request: web.Request) -> str:
        return self.ctx.i18n.normalize_locale(request.query.get("lang") or request.query.get("locale"))

    async def page(self, request: web.Request) -> web.Response:
        locale = self._locale(request)
        view = Page(self.ctx.i18n, locale)
        try:
            scope = await parse_scope(self.ctx, request.query)
        except BadQuery as exc:
            return web.Response(text=view.error(self.ctx.i18n.t(locale, exc.key, **exc.params)), status=400,
                                content_type="text/html", charset="utf-8", headers=PAGE_HEADERS)
        figures = await compute(self.ctx, scope, self.categories)
        return web.Response(text=view.render(figures, self.categories), content_type="text/html",
                            charset="utf-8", headers=PAGE_HEADERS)

    async def stats(self, request: web.Request) -> web.Response:
        try:
            scope = await parse_scope(self.ctx, request.query)
        except BadQuery as exc:
            return exports.error_json(self.ctx.i18n.t(self._locale(request), exc.key, **exc.params))
        figures = await compute(self.ctx, scope, self.categories)
        return web.json_response(figures, headers=API_HEADERS, dumps=lambda o: json.dumps(o, ensure_ascii=False))

    async def cases(self, request: web.Request) -> web.StreamResponse:
        fmt = request.match_info["fmt"]
        try:
            flt = await exports.parse_filter(self.ctx, request.query, self.categories)
        except BadQuery as exc:
            return exports.error_json(self.ctx.i18n.t(self._locale(request), exc.key, **exc.params))
        return await exports.stream(request, self.ctx, fmt, flt)


def add_routes(app: web.Application, ctx: AppContext, categories: Sequence[str]) -> Dashboard:
    """Mount the dashboard, its JSON figures and the open-data downloads."""
    dash = Dashboard(ctx, categories)
    app.router.add_get("/dashboard", dash.page)
    app.router.add_get("/api/stats.json", dash.stats)
    app.router.add_get("/opendata/cases.{fmt:csv|json|geojson}", dash.cases)
    return dash
