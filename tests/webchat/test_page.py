"""The chat page, its static files and the media route, as a browser fetches them."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp.test_utils import TestClient

from bot.context import AppContext
from bot.messages import Media, Outbound
from integrations.webchat import render
from tests.harness import JPEG


def i18n_block(html: str) -> dict[str, str]:
    match = re.search(r'<script type="application/json" id="tiengdan-i18n">(.*?)</script>', html, re.S)
    assert match, "catalog block missing"
    data: dict[str, str] = json.loads(match.group(1))
    return data


async def test_page_is_vietnamese_from_the_catalog(client: TestClient[Any, Any], app_ctx: AppContext) -> None:
    response = await client.get("/")
    assert response.status == 200
    assert response.content_type == "text/html"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    html = await response.text()
    t = app_ctx.i18n.t
    assert '<html lang="vi">' in html
    assert f"<title>{t('vi', 'web.title')}</title>" in html
    assert t("vi", "web.title") == "Tiếng Dân — Trò chuyện"
    assert "{{" not in html and "web." not in re.sub(r'<script type="application/json".*?</script>', "", html,
                                                     flags=re.S)
    strings = i18n_block(html)
    assert strings["web.send"] == t("vi", "web.send")
    assert strings["web.status.offline"] == t("vi", "web.status.offline")
    for control in ('id="photo"', 'accept="image/*"', 'capture="environment"', 'id="voice"', 'id="location"',
                    'role="log"', 'name="viewport"'):
        assert control in html


async def test_page_in_english(client: TestClient[Any, Any], app_ctx: AppContext) -> None:
    html = await (await client.get("/", params={"lang": "en"})).text()
    assert '<html lang="en">' in html
    assert app_ctx.i18n.t("en", "web.input_placeholder") in html
    assert i18n_block(html)["web.send"] == "Send"


async def test_catalogs_have_the_same_web_keys(app_ctx: AppContext) -> None:
    vi = {k for k in app_ctx.i18n.keys("vi") if k.startswith("web.")}
    en = {k for k in app_ctx.i18n.keys("en") if k.startswith("web.")}
    assert vi == en and len(vi) > 30
    for code in ("bad_json", "bad_frame", "bad_base64", "bad_location", "too_large", "empty"):
        assert f"web.error.{code}" in vi


async def test_catalog_text_is_escaped_and_cannot_close_the_script(client: TestClient[Any, Any],
                                                                   app_ctx: AppContext) -> None:
    app_ctx.i18n._messages["vi"]["web.heading"] = "<b>Tiếng</b>"
    app_ctx.i18n._messages["vi"]["web.send"] = "</script><script>alert(1)</script>"
    html = await (await client.get("/")).text()
    assert "<h1>&lt;b&gt;Tiếng&lt;/b&gt;</h1>" in html
    assert "alert(1)</script>" not in html
    assert i18n_block(html)["web.send"] == "</script><script>alert(1)</script>"


async def test_static_files(client: TestClient[Any, Any]) -> None:
    js = await client.get("/static/webchat.js")
    assert js.status == 200 and "WebSocket" in await js.text()
    css = await client.get("/static/webchat.css")
    assert css.status == 200
    assert (await client.get("/static/../bot/config.py")).status in (403, 404)
    assert (await client.get("/static/%2e%2e/webchat.py")).status in (403, 404)


async def test_media_route_serves_only_stored_images(client: TestClient[Any, Any], app_ctx: AppContext) -> None:
    saved = await app_ctx.store.media.save(Media("photo", data=JPEG))
    url = render(Outbound("📊", image=str(saved.path)), app_ctx.settings.media_dir)["image"]
    assert url == f"/media/{saved.sha256}"
    response = await client.get(url)
    assert response.status == 200
    assert response.content_type == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert await response.read() == JPEG

    pdf = await app_ctx.store.media.save(Media("file", data=b"%PDF-1.4\n%%EOF\n"))
    assert (await client.get(f"/media/{pdf.sha256}")).status == 404
    assert (await client.get("/media/" + "0" * 64)).status == 404
    assert (await client.get("/media/" + saved.sha256.upper())).status == 404
    assert (await client.get("/media/..%2F..%2Fetc%2Fpasswd")).status == 404
    assert (await client.get("/media/not-a-hash")).status == 404
