"""The GeoReport v2 endpoints; every refusal is the spec's error list, never a 500."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web

from bot import casecode
from bot.context import AppContext
from bot.store import publicstats
from integrations.open311 import formats, intake, services
from integrations.open311.intake import RequestError
from integrations.open311.views import request_rows, statuses_for

log = logging.getLogger(__name__)

PREFIX = "/open311/v2"
DEFAULT_WINDOW = timedelta(days=90)
MAX_RESULTS = 1000
MAX_IDS = 100

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Open311:
    """Handlers bound to the application context and the category taxonomy."""

    def __init__(self, ctx: AppContext, categories: Sequence[str]) -> None:
        self.ctx = ctx
        self.categories = tuple(categories)

    # --- helpers ---------------------------------------------------------------------------

    def _locale(self, request: web.Request, form: dict[str, str] | None = None) -> str:
        raw = request.query.get("locale") or (form or {}).get("locale")
        return self.ctx.i18n.normalize_locale(raw)

    def _error(self, request: web.Request, fmt: str, exc: RequestError, locale: str | None = None) -> web.Response:
        text = self.ctx.i18n.t(locale or self._locale(request), exc.key, **exc.params)
        return formats.error(fmt, exc.status, text)

    def _media_base(self, request: web.Request) -> str:
        public = self.ctx.settings.public_url
        return public.rstrip("/") if public else str(request.url.origin())

    def _date(self, raw: str | None, name: str) -> datetime | None:
        if raw is None or not raw.strip():
            return None
        try:
            value = datetime.fromisoformat(raw.strip().replace(" ", "+"))
        except ValueError:
            raise RequestError(400, "dash.open311.error.bad_date", field=name) from None
        if not 1970 <= value.year <= 2200:  # also keeps window arithmetic clear of overflow
            raise RequestError(400, "dash.open311.error.bad_date", field=name)
        if value.tzinfo is None:
            value = value.replace(tzinfo=ZoneInfo(self.ctx.settings.timezone))
        return value

    @staticmethod
    def _fmt(request: web.Request) -> str:
        fmt = request.match_info.get("fmt", "json")
        if fmt not in formats.FORMATS:
            raise RequestError(404, "dash.open311.error.format", format=fmt[:16])
        return fmt

    def guarded(self, handler: Callable[[web.Request, str], Awaitable[web.StreamResponse]]) -> Handler:
        """Check the format, turn refusals into the spec's error list."""

        async def run(request: web.Request) -> web.StreamResponse:
            fmt = request.match_info.get("fmt", "json")
            try:
                return await handler(request, self._fmt(request))
            except RequestError as exc:
                return self._error(request, fmt, exc)

        return run

    # --- services --------------------------------------------------------------------------

    async def service_list(self, request: web.Request, fmt: str) -> web.Response:
        rows = services.service_list(self.ctx.i18n, self._locale(request), self.categories)
        return formats.respond(fmt, rows, root="services", item="service")

    async def service_definition(self, request: web.Request, fmt: str) -> web.Response:
        code = request.match_info["code"]
        if code not in self.categories:
            raise RequestError(404, "dash.open311.error.service_unknown", code=code[:64])
        return formats.respond(fmt, [services.definition(code)], root="service_definition", item="",
                               single=True)

    # --- requests --------------------------------------------------------------------------

    async def create(self, request: web.Request, fmt: str) -> web.Response:
        try:
            form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        except (ValueError, UnicodeDecodeError):
            raise RequestError(400, "dash.open311.error.bad_body") from None
        locale = self._locale(request, form)
        keys = [k.get_secret_value() for k in self.ctx.settings.open311_api_keys]
        try:
            new = intake.parse(form, keys=keys, categories=self.categories)
            case = await intake.file_request(self.ctx, new, locale=locale)
        except RequestError as exc:
            return self._error(request, fmt, exc, locale)
        due = case.ack_due_at or case.due_at
        notice = self.ctx.i18n.t(locale, "dash.open311.notice", code=case.display_code,
                                 due=self.ctx.i18n.datetime(due, locale) if due else "-")
        row = {"service_request_id": case.code, "service_notice": notice, "account_id": None}
        return formats.respond(fmt, [row], root="service_requests", item="request")

    async def search(self, request: web.Request, fmt: str) -> web.Response:
        query = request.query
        locale = self._locale(request)
        ids = [i.strip() for i in query.get("service_request_id", "").split(",") if i.strip()]
        if ids:  # the spec: a list of ids overrides every other filter
            if len(ids) > MAX_IDS:
                raise RequestError(400, "dash.open311.error.too_many_ids", limit=MAX_IDS)
            codes = [c for c in (casecode.normalize(i) for i in ids) if c is not None]
            flt = publicstats.CaseFilter(codes=codes)
        else:
            flt = self._filter(query)
        cases = await publicstats.find_cases(self.ctx.store.cases, flt, limit=MAX_RESULTS)
        rows = await request_rows(self.ctx, cases, locale=locale, media_base=self._media_base(request))
        return formats.respond(fmt, rows, root="service_requests", item="request")

    def _filter(self, query: Mapping[str, str]) -> publicstats.CaseFilter:
        start = self._date(query.get("start_date"), "start_date")
        end = self._date(query.get("end_date"), "end_date")
        now = self.ctx.clock.now()
        if end is None:
            end = now if start is None else max(now, start + DEFAULT_WINDOW)
        if start is None:
            start = end - DEFAULT_WINDOW
        if start > end:
            raise RequestError(400, "dash.open311.error.bad_window")
        statuses: list[str] | None = None
        raw_status = query.get("status", "").strip()
        if raw_status:
            wanted = [s.strip() for s in raw_status.split(",") if s.strip()]
            if not wanted or any(w not in ("open", "closed") for w in wanted):
                raise RequestError(400, "dash.open311.error.bad_status")
            statuses = [s for w in wanted for s in statuses_for(w)]
        codes: list[str] | None = None
        raw_codes = query.get("service_code", "").strip()
        if raw_codes:
            codes = [c.strip() for c in raw_codes.split(",") if c.strip()]
            unknown = [c for c in codes if c not in self.categories]
            if unknown:
                raise RequestError(404, "dash.open311.error.service_unknown", code=unknown[0][:64])
        return publicstats.CaseFilter(since=start, until=end, statuses=statuses, categories=codes)

    async def one(self, request: web.Request, fmt: str) -> web.Response:
        case = await self.ctx.store.cases.get_by_code(request.match_info["id"])
        if case is None:
            raise RequestError(404, "dash.open311.error.request_unknown")
        rows = await request_rows(self.ctx, [case], locale=self._locale(request),
                                  media_base=self._media_base(request))
        return formats.respond(fmt, rows, root="service_requests", item="request")

    async def token(self, request: web.Request, fmt: str) -> web.Response:
        """We file synchronously and hand out the request id at once: a token is that id."""
        token = request.match_info["token"]
        case = await self.ctx.store.cases.get_by_code(token)
        if case is None:
            raise RequestError(404, "dash.open311.error.token_unknown")
        row = {"service_request_id": case.code, "token": token}
        return formats.respond(fmt, [row], root="service_requests", item="request")


def add_routes(app: web.Application, ctx: AppContext, categories: Sequence[str]) -> Open311:
    """Mount GeoReport v2 under `/open311/v2/`; `categories` are the services offered."""
    api = Open311(ctx, categories)
    fmt = "{fmt:[A-Za-z0-9]+}"
    app.router.add_get(f"{PREFIX}/services.{fmt}", api.guarded(api.service_list))
    app.router.add_get(f"{PREFIX}/services/{{code:[^/.]+}}.{fmt}", api.guarded(api.service_definition))
    app.router.add_post(f"{PREFIX}/requests.{fmt}", api.guarded(api.create))
    app.router.add_get(f"{PREFIX}/requests.{fmt}", api.guarded(api.search))
    app.router.add_get(f"{PREFIX}/requests/{{id:[^/.]+}}.{fmt}", api.guarded(api.one))
    app.router.add_get(f"{PREFIX}/tokens/{{token:[^/.]+}}.{fmt}", api.guarded(api.token))
    return api
