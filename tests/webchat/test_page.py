"""The chat page, its static files and the media route, as a browser fetches them."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp.test_utils import TestClient

from bot.context import AppContext
from bot.messages import Media, Outbound
from integrations.webchat import ERROR_CODES, STATIC_DIR, render
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


def script_keys() -> set[str]:
    """Catalog keys the page script looks up with t("…")."""
    js = (STATIC_DIR / "webchat.js").read_text(encoding="utf-8")
    return set(re.findall(r'\bt\("(web\.[a-z0-9_.]+)"\)', js))


async def test_every_text_the_script_shows_comes_from_the_catalog(client: TestClient[Any, Any]) -> None:
    keys = script_keys()
    assert {"web.location_share", "web.waiting", "web.phone_placeholder", "web.location_denied"} <= keys
    for lang in ("vi", "en"):
        strings = i18n_block(await (await client.get("/", params={"lang": lang})).text())
        missing = sorted(k for k in keys if not strings.get(k))
        assert not missing, f"{lang}: the page script would show nothing for {missing}"


async def test_location_button_in_a_message_matches_the_dialog_button(app_ctx: AppContext) -> None:
    """The script makes the bot's own "📍 …" choice ask for the position; both start with one icon."""
    t = app_ctx.i18n.t
    for lang in ("vi", "en"):
        assert t(lang, "web.location_share").startswith("📍")
        assert t(lang, "report.send_location").startswith("📍")


async def test_problems_are_shown_with_a_warning_icon(client: TestClient[Any, Any], app_ctx: AppContext) -> None:
    strings = i18n_block(await (await client.get("/")).text())
    for key in ("web.status.offline", "web.photo_failed", "web.voice_denied", "web.location_denied",
                *(f"web.error.{code}" for code in ERROR_CODES)):
        assert strings[key].startswith("⚠️"), key
        assert app_ctx.i18n.t("en", key).startswith("⚠️"), key
    async with client.ws_connect("/webchat/ws?user=warn-1") as ws:
        await ws.send_str("{not json")
        frame = await ws.receive_json(timeout=10)
    assert frame == {"error": "bad_json", "text": strings["web.error.bad_json"]}


async def test_page_fits_a_phone_with_its_keyboard_open(client: TestClient[Any, Any]) -> None:
    html = await (await client.get("/")).text()
    assert "interactive-widget=resizes-content" in html  # the keyboard shrinks the page, not covers it
    assert 'class="status connecting"' in html
    css = await (await client.get("/static/webchat.css")).text()
    assert "100dvh" in css and "min-height: 48px" in css


async def test_page_uses_no_outside_resources(client: TestClient[Any, Any]) -> None:
    """No CDN, font or framework: the page must work on a slow or filtered network."""
    html = await (await client.get("/")).text()
    for name, text in (("index.html", html),
                       ("webchat.js", await (await client.get("/static/webchat.js")).text()),
                       ("webchat.css", await (await client.get("/static/webchat.css")).text())):
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text, re.I), name
        assert "@import" not in text, name
    assert re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html) == [
        "/static/webchat.css", "/static/webchat.js"]
