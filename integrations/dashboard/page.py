"""The dashboard as one server-rendered HTML page: no scripts, no CDN, readable on a phone.

Every word comes from the `dash.*` catalog; numbers are formatted for the reader's language.
Bars and the 30-day trend are inline SVG, each with a text equivalent (table or title).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from html import escape
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import urlencode

from bot.i18n import Catalogs
from bot.opendata import category_name, status_name

TEMPLATE = Template((Path(__file__).with_name("page.html")).read_text(encoding="utf-8"))
TREND_HEIGHT = 100


class Page:
    """Renders figures (see `figures.compute`) in one language."""

    def __init__(self, i18n: Catalogs, locale: str) -> None:
        self.i18n = i18n
        self.locale = locale

    def t(self, key: str, **params: Any) -> str:
        return escape(self.i18n.t(self.locale, key, **params))

    def num(self, value: float) -> str:
        return escape(self.i18n.number(value, self.locale))

    # --- pieces --------------------------------------------------------------------------------

    def _hours(self, value: float | None) -> str:
        return self.t("dash.hours", value=self.num(value)) if value is not None else self.t("dash.none")

    def _share(self, share: float | None) -> str:
        if share is None:
            return self.t("dash.none")
        return self.t("dash.percent", value=self.num(round(share * 100, 1)))

    @staticmethod
    def _bar(value: int, top: int) -> str:
        width = 0 if top <= 0 else round(100 * value / top, 1)
        return (f'<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" '
                f'focusable="false"><rect width="{width}" height="10" fill="#0969da"/></svg>')

    @staticmethod
    def _table(caption: str, heads: Sequence[tuple[str, bool]], rows: Sequence[Sequence[str]]) -> str:
        head = "".join(f'<th scope="col"{" class=num" if num else ""}>{h}</th>' for h, num in heads)
        body = "".join(
            "<tr>" + "".join(
                (f'<th scope="row">{cell}</th>' if i == 0 else
                 f'<td{" class=num" if heads[i][1] else ""}>{cell}</td>') for i, cell in enumerate(row)) + "</tr>"
            for row in rows)
        return (f'<div class="table-wrap"><table><caption class="muted">{caption}</caption>'
                f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")

    def _counts(self, heading: str, col: str, counts: dict[str, int], label: Any, total: int) -> str:
        top = max(counts.values(), default=0)
        rows = [(escape(label(key)), self.num(n), self._share(n / total if total else None), self._bar(n, top))
                for key, n in counts.items()]
        heads = [(self.t(col), False), (self.t("dash.col.count"), True), (self.t("dash.col.share"), True), ("", False)]
        return f"<section><h2>{self.t(heading)}</h2>{self._table(self.t(heading), heads, rows)}</section>"

    def _kpis(self, f: dict[str, Any]) -> str:
        on_time = self._share(f["on_time_share"])
        detail = self.t("dash.on_time_of", on_time=self.num(f["resolved_on_time"]),
                        total=self.num(f["resolved_with_deadline"]))
        items = [
            ("dash.kpi.total", self.num(f["total"]), ""),
            ("dash.kpi.median_ack", self._hours(f["median_ack_hours"]), ""),
            ("dash.kpi.median_resolve", self._hours(f["median_resolve_hours"]), ""),
            ("dash.kpi.on_time", on_time, detail),
            ("dash.kpi.overdue", self.num(f["overdue"]), ""),
        ]
        lis = "".join(f'<li><span class="value">{value}</span>{self.t(key)}'
                      f'{f"<br><small class=muted>{extra}</small>" if extra else ""}</li>'
                      for key, value, extra in items)
        return f'<section><h2>{self.t("dash.kpi.heading")}</h2><ul class="kpis">{lis}</ul></section>'

    def _provinces(self, provinces: list[dict[str, Any]]) -> str:
        rows = []
        for p in provinces:
            name = escape(p["name"]) if p["name"] else self.t("dash.province_unknown")
            share = self._share(p["on_time"] / p["resolved"] if p["resolved"] else None)
            rows.append((name, self.num(p["total"]), self.num(p["open"]), self.num(p["resolved"]), share))
        heads = [(self.t("dash.col.province"), False), (self.t("dash.col.total"), True),
                 (self.t("dash.col.open"), True), (self.t("dash.col.resolved"), True),
                 (self.t("dash.col.on_time"), True)]
        table = self._table(self.t("dash.provinces"), heads, rows)
        return f'<section><h2>{self.t("dash.provinces")}</h2>{table}</section>'

    def _day(self, iso_day: str) -> str:
        return escape(self.i18n.datetime(datetime.combine(date.fromisoformat(iso_day), datetime.min.time()),
                                         self.locale, "d/M"))

    def _trend(self, days: list[dict[str, Any]]) -> str:
        top = max([d["filed"] for d in days] + [d["resolved"] for d in days] + [1])
        step = 10
        bars = []
        for i, d in enumerate(days):
            label = self.t("dash.trend_bar", day=self._day(d["date"]), filed=self.num(d["filed"]),
                           resolved=self.num(d["resolved"]))
            hf, hr = TREND_HEIGHT * d["filed"] / top, TREND_HEIGHT * d["resolved"] / top
            x = i * step
            bars.append(f"<g><title>{label}</title>"
                        f'<rect x="{x + 1}" y="{TREND_HEIGHT - hf:.1f}" width="4" height="{hf:.1f}" fill="#0969da"/>'
                        f'<rect x="{x + 5}" y="{TREND_HEIGHT - hr:.1f}" width="4" height="{hr:.1f}" fill="#bc4c00"/>'
                        "</g>")
        svg = (f'<svg class="trend" viewBox="0 0 {len(days) * step} {TREND_HEIGHT}" preserveAspectRatio="none" '
               f'role="img" aria-label="{self.t("dash.trend")}">{"".join(bars)}</svg>')
        rows = [(self._day(d["date"]), self.num(d["filed"]), self.num(d["resolved"])) for d in days]
        heads = [(self.t("dash.col.day"), False), (self.t("dash.col.filed"), True), (self.t("dash.col.done"), True)]
        return (f'<section><h2>{self.t("dash.trend")}</h2><p class="muted">{self.t("dash.trend_legend")}</p>{svg}'
                f'<details><summary>{self.t("dash.trend_table")}</summary>'
                f'{self._table(self.t("dash.trend"), heads, rows)}</details></section>')

    def _form(self, area: str, days: int) -> str:
        return (f'<form method="get" action="/dashboard"><fieldset>'
                f'<legend class="muted">{self.t("dash.filter.legend")}</legend>'
                f'<input type="hidden" name="lang" value="{escape(self.locale)}">'
                f'<label>{self.t("dash.filter.area")}<input name="area" value="{escape(area)}" '
                f'inputmode="numeric" maxlength="16" autocomplete="off"></label>'
                f'<label>{self.t("dash.filter.days")}<input name="days" type="number" min="1" max="3660" '
                f'value="{days}"></label><button type="submit">{self.t("dash.filter.submit")}</button>'
                f"</fieldset></form>")

    def _links(self, area: str) -> str:
        query = f"?{urlencode({'area': area})}" if area else ""
        items = [(f"/opendata/cases.{ext}{query}", f"dash.download.{ext}") for ext in ("csv", "json", "geojson")]
        items += [(f"/api/stats.json{query}", "dash.download.stats"), ("/open311/v2/services.json",
                                                                        "dash.download.open311")]
        lis = "".join(f'<li><a href="{escape(href)}">{self.t(key)}</a></li>' for href, key in items)
        return (f'<section><h2>{self.t("dash.opendata")}</h2><p>{self.t("dash.opendata_note")}</p>'
                f'<ul class="links">{lis}</ul></section>')

    # --- whole pages -----------------------------------------------------------------------------

    def _frame(self, body: str, *, scope: str, updated: str, query: dict[str, str]) -> str:
        other = "en" if self.locale == "vi" else "vi"
        return TEMPLATE.substitute(
            lang=self.locale, other_lang=other, title=self.t("dash.title"), subtitle=self.t("dash.subtitle"),
            skip=self.t("dash.skip"), lang_switch=self.t("dash.lang_switch"),
            lang_href=escape("/dashboard?" + urlencode({**query, "lang": other})), scope=scope, body=body,
            updated=updated)

    def render(self, f: dict[str, Any], categories: Sequence[str]) -> str:
        scope = f["scope"]
        area_code = scope["area"]["code"] if scope["area"] else ""
        area_name = scope["area"]["name"] if scope["area"] else self.i18n.t(self.locale, "dash.area_all")
        parts = [self._form(area_code, scope["days"]), self._kpis(f)]
        if f["total"] == 0:
            parts.append(f'<p>{self.t("dash.empty")}</p>')
        parts += [
            self._counts("dash.by_status", "dash.col.status", f["by_status"],
                         lambda s: status_name(self.i18n, self.locale, s), f["total"]),
            self._counts("dash.by_category", "dash.col.category", f["by_category"],
                         lambda c: category_name(self.i18n, self.locale, c), f["total"]),
            self._provinces(f["provinces"]),
            self._trend(f["trend"]),
            self._links(area_code),
        ]
        when = self.i18n.datetime(datetime.fromisoformat(f["generated_at"]), self.locale)
        query = {k: v for k, v in (("area", area_code), ("days", str(scope["days"]))) if v}
        return self._frame("\n".join(parts), scope=self.t("dash.scope", days=self.num(scope["days"]), area=area_name),
                           updated=self.t("dash.updated", time=when), query=query)

    def error(self, message: str) -> str:
        body = (f'<h2>{self.t("dash.error.title")}</h2><p role="alert">{escape(message)}</p>'
                f'<p><a href="/dashboard?lang={escape(self.locale)}">{self.t("dash.error.back")}</a></p>')
        return self._frame(body, scope="", updated="", query={})
