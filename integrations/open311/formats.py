"""GeoReport v2 wire formats: the same data as JSON or as XML with the spec's element names."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

FORMATS = ("json", "xml")
XML_TYPE = "text/xml"
_XML_DECL = '<?xml version="1.0" encoding="utf-8"?>\n'


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def _fill(node: ET.Element, row: Mapping[str, Any]) -> None:
    for key, value in row.items():
        ET.SubElement(node, key).text = _text(value)


def to_xml(root: str, item: str | None, rows: Sequence[Mapping[str, Any]]) -> str:
    """`<root><item><field>value</field>…</item>…</root>` (fields right under root when `item`
    is None); None becomes an empty element."""
    top = ET.Element(root)
    for row in rows:
        _fill(top if item is None else ET.SubElement(top, item), row)
    return _XML_DECL + ET.tostring(top, encoding="unicode")


def respond(fmt: str, rows: Sequence[Mapping[str, Any]], *, root: str, item: str,
            status: int = 200, single: bool = False) -> web.Response:
    """A list of rows (or, with `single`, one object) in the requested format."""
    if fmt == "xml":
        text = to_xml(root, None, rows[:1]) if single else to_xml(root, item, rows)
        return web.Response(text=text, status=status, content_type=XML_TYPE, charset="utf-8")
    body: Any = dict(rows[0]) if single and rows else [dict(r) for r in rows]
    return web.json_response(body, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))


def error(fmt: str, code: int, description: str) -> web.Response:
    """The spec's error list: `[{"code": 400, "description": "..."}]` or `<errors><error>…`."""
    return respond(fmt if fmt in FORMATS else "json", [{"code": code, "description": description}],
                   root="errors", item="error", status=code)
