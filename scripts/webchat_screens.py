"""Walk a whole citizen report in the web chat with headless Chromium and save screenshots.

Why: the web chat is for citizens on cheap phones; this script lets anyone *look* at every step
(phone 360×740 and desktop 1280×800) and prints an audit of tap-target sizes, font sizes, contrast,
horizontal overflow and "is the newest message in view".

Run from the project root (needs Debian's Chromium: `apt-get install -y chromium`):

    .venv/bin/python scripts/webchat_screens.py            # screenshots → bench/out/webchat/
    .venv/bin/python scripts/webchat_screens.py --out /tmp/shots --only phone

It starts `python -m bot.cli serve` on 127.0.0.1 (a free port) with a temporary SQLite database and
media directory, launches `/usr/bin/chromium` (or `$CHROMIUM`) headless with a fresh profile, and
drives it over the DevTools protocol with aiohttp (already a dependency; no browser download, no
npm). Only http://127.0.0.1:<port> is ever loaded. Without Chromium it prints why and exits 0.

Steps: language → consent → skip home → named → report → category → skip description → photo →
done → location (Huế 16.4637, 107.5909) → send → code → status; then the server is stopped to show
the "reconnecting" state, restarted, and a typed "menu" proves the same user continues. On the
desktop run the location is first refused (kind error bubble), then allowed.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import io
import json
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
HUE = (16.4637, 107.5909)
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--remote-debugging-port=0", "--remote-allow-origins=*", "about:blank"]


@dataclass(frozen=True)
class Viewport:
    name: str
    width: int
    height: int
    mobile: bool


PHONE = Viewport("phone", 360, 740, True)
DESKTOP = Viewport("desktop", 1280, 800, False)

# What a page should satisfy; measured in the page so the numbers are the browser's own.
AUDIT_JS = r"""
(() => {
  const lum = (rgb) => {
    const c = rgb.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const parse = (s) => { const m = s.match(/[\d.]+/g) || []; return m.map(Number); };
  const bgOf = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0 &&
    getComputedStyle(el).visibility !== "hidden"; };
  const label = (el) => (el.innerText || el.value || el.placeholder || el.id || el.tagName).trim().slice(0, 40);
  const out = { small_targets: [], small_text: [], low_contrast: [], clipped: [], overflow_x: false };
  document.querySelectorAll("button, .tool, input[type=text], a[href]").forEach((el) => {
    if (!visible(el) || el.disabled) return;
    const r = el.getBoundingClientRect();
    if (r.height < 44 || r.width < 44) out.small_targets.push([label(el), Math.round(r.width), Math.round(r.height)]);
    if (el.scrollWidth > el.clientWidth + 1) out.clipped.push(label(el));
  });
  document.querySelectorAll("p, button, a, input, .tool span, h1, .status").forEach((el) => {
    if (!visible(el) || el.closest(".visually-hidden")) return;
    const style = getComputedStyle(el);
    const size = parseFloat(style.fontSize);
    if (size < 16) out.small_text.push([label(el), size]);
    const fg = parse(style.color).slice(0, 3), bg = bgOf(el);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (!el.disabled && ratio < (large ? 3 : 4.5)) out.low_contrast.push([label(el), Math.round(ratio * 100) / 100]);
  });
  out.overflow_x = document.documentElement.scrollWidth > document.documentElement.clientWidth;
  const log = document.getElementById("log");
  const last = log.lastElementChild;
  if (last) {  // its start must show; its end too unless it is taller than the chat
    const lr = last.getBoundingClientRect(), gr = log.getBoundingClientRect();
    const topShown = lr.top >= gr.top - 2 && lr.top < gr.bottom;
    out.newest_in_view = topShown && (lr.bottom <= gr.bottom + 2 || lr.height > gr.height - 16);
  }
  out.status = (document.getElementById("status") || {}).textContent || "";
  return out;
})()
"""


UNFOLD_JS = """(() => { for (const el of [document.documentElement, document.body]) { el.style.height = 'auto'; }
  const log = document.getElementById('log'); log.style.overflow = 'visible'; log.style.flex = 'none';
  return {w: document.documentElement.clientWidth, h: document.documentElement.scrollHeight}; })()"""
FOLD_JS = """(() => { for (const el of [document.documentElement, document.body, document.getElementById('log')]) {
  el.style.height = ''; el.style.overflow = ''; el.style.flex = ''; }
  const log = document.getElementById('log'); log.scrollTop = log.scrollHeight; return true; })()"""


# --- DevTools protocol over aiohttp -----------------------------------------------------------


@dataclass
class Cdp:
    """One browser-level DevTools connection; page commands go through flat sessions."""

    ws: aiohttp.ClientWebSocketResponse
    pending: dict[int, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    js_errors: list[str] = field(default_factory=list)
    counter: int = 0

    async def pump(self) -> None:
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(msg.data)
            if "id" in data:
                fut = self.pending.pop(data["id"], None)
                if fut is not None and not fut.done():
                    if "error" in data:
                        fut.set_exception(RuntimeError(f"{data['error']}"))
                    else:
                        fut.set_result(data.get("result", {}))
            elif data.get("method") == "Runtime.exceptionThrown":
                self.js_errors.append(json.dumps(data["params"]["exceptionDetails"])[:400])
            elif data.get("method") == "Runtime.consoleAPICalled" and data["params"]["type"] == "error":
                self.js_errors.append(json.dumps(data["params"]["args"])[:400])

    async def call(self, method: str, params: dict[str, Any] | None = None,
                   session: str | None = None) -> dict[str, Any]:
        self.counter += 1
        message: dict[str, Any] = {"id": self.counter, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[self.counter] = fut
        await self.ws.send_str(json.dumps(message))
        return await asyncio.wait_for(fut, 30)


@dataclass
class Tab:
    """One page in its own browser context (fresh localStorage = a first-time visitor)."""

    cdp: Cdp
    session: str
    context_id: str
    viewport: Viewport
    out_dir: Path
    shots: list[Path] = field(default_factory=list)
    audits: dict[str, Any] = field(default_factory=dict)

    async def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.cdp.call(method, params, self.session)

    async def eval(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                      "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"page error: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, within: float = 15.0) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if await self.eval(expression):
                return
            await asyncio.sleep(0.1)
        raise TimeoutError(f"never true: {expression}")

    async def bot_count(self) -> int:
        return int(await self.eval("document.querySelectorAll('#log .msg.bot').length"))

    async def settle(self, before: int, within: float = 15.0) -> None:
        """Wait for new bot messages, then for 0.7 s of quiet (replies to one frame come together)."""
        await self.wait_for(f"document.querySelectorAll('#log .msg.bot').length > {before}", within)
        count, quiet_since = await self.bot_count(), time.monotonic()
        while time.monotonic() - quiet_since < 0.7:
            await asyncio.sleep(0.1)
            now = await self.bot_count()
            if now != count:
                count, quiet_since = now, time.monotonic()
        await asyncio.sleep(0.3)  # smooth scrolling, if any, ends

    async def click_at(self, selector_js: str) -> None:
        """A real pointer click at the element's centre (fails if it is off-screen or covered)."""
        box = await self.eval(f"""(() => {{ const el = {selector_js}; if (!el) return null;
            el.scrollIntoView({{block: 'nearest'}}); const r = el.getBoundingClientRect();
            const x = r.left + r.width / 2, y = r.top + r.height / 2;
            const hit = document.elementFromPoint(x, y);
            return {{x, y, covered: !(hit && (hit === el || el.contains(hit) || hit.contains(el)))}}; }})()""")
        if box is None:
            raise LookupError(f"nothing matches {selector_js}")
        if box["covered"]:
            print(f"  ! {self.viewport.name}: target covered by another element: {selector_js}")
        for kind in ("mousePressed", "mouseReleased"):
            await self.call("Input.dispatchMouseEvent", {"type": kind, "x": box["x"], "y": box["y"],
                                                         "button": "left", "clickCount": 1})

    async def tap(self, label_part: str) -> None:
        """Tap the newest enabled choice button whose label contains `label_part`."""
        before = await self.bot_count()
        needle = json.dumps(label_part.lower())
        await self.click_at(f"""[...document.querySelectorAll('#log button.choice:not(:disabled)')]
            .reverse().find((b) => b.textContent.toLowerCase().includes({needle}))""")
        await self.settle(before)

    async def type_and_send(self, text: str) -> None:
        before = await self.bot_count()
        await self.click_at("document.getElementById('text')")
        await self.call("Input.insertText", {"text": text})
        await self.click_at("document.getElementById('send')")
        await self.settle(before)

    async def upload(self, path: Path) -> None:
        before = await self.bot_count()
        doc = await self.call("DOM.getDocument", {"depth": 0})
        node = await self.call("DOM.querySelector", {"nodeId": doc["root"]["nodeId"], "selector": "#photo"})
        await self.call("DOM.setFileInputFiles", {"files": [str(path)], "nodeId": node["nodeId"]})
        await self.settle(before)

    async def shot(self, step: str, full: bool = False) -> Path:
        audit = await self.eval(AUDIT_JS)
        params: dict[str, Any] = {"format": "png"}
        if full:  # let the chat grow to its whole height for one picture, then put it back
            size = await self.eval(UNFOLD_JS)
            params.update(captureBeyondViewport=True, clip={"x": 0, "y": 0, "width": size["w"],
                                                            "height": size["h"], "scale": 1})
        data = (await self.call("Page.captureScreenshot", params))["data"]
        if full:
            await self.eval(FOLD_JS)
        path = self.out_dir / f"{self.viewport.name}-{len(self.shots) + 1:02d}-{step}.png"
        path.write_bytes(base64.b64decode(data))
        self.shots.append(path)
        self.audits[path.name] = audit
        problems = {k: v for k, v in audit.items() if v and k in ("small_targets", "small_text", "low_contrast",
                                                                   "clipped", "overflow_x")}
        if audit.get("newest_in_view") is False:
            problems["newest_in_view"] = False
        print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}"
              + (f"  ! {json.dumps(problems, ensure_ascii=False)}" if problems else "  ok"))
        return path


# --- server and browser processes ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """`bot.cli serve` on 127.0.0.1 with a throw-away database; can be stopped and started again."""

    port: int
    work: Path
    proc: asyncio.subprocess.Process | None = None

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TIENGDAN_")}
        env.update(TIENGDAN_DATABASE_URL=f"sqlite+aiosqlite:///{self.work / 'webqa.db'}",
                   TIENGDAN_MEDIA_DIR=str(self.work / "media"), TIENGDAN_HOST="127.0.0.1",
                   TIENGDAN_PORT=str(self.port))
        return env

    async def start(self) -> None:
        with (self.work / "server.log").open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "serve", cwd=ROOT, env=self.env(), stdout=log,
                stderr=asyncio.subprocess.STDOUT)
        deadline = time.monotonic() + 120
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.proc.returncode is not None:
                    raise RuntimeError(f"server exited; see {self.work / 'server.log'}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"http://127.0.0.1:{self.port}/healthz") as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.3)
        raise TimeoutError("server did not answer /healthz")

    async def stop(self) -> None:
        if self.proc is not None:
            await end(self.proc)
        self.proc = None


async def end(proc: asyncio.subprocess.Process) -> None:
    """Terminate one process we started, killing it if it does not stop in time."""
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 15)
        except TimeoutError:
            proc.kill()
            await proc.wait()


@contextlib.asynccontextmanager
async def chromium(binary: str, profile: Path) -> AsyncIterator[Cdp]:
    proc = await asyncio.create_subprocess_exec(
        binary, *CHROME_FLAGS[:-1], f"--user-data-dir={profile}", CHROME_FLAGS[-1],
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if proc.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError("chromium did not start")
            await asyncio.sleep(0.1)
        port, path = port_file.read_text().splitlines()[:2]
        async with aiohttp.ClientSession() as http, http.ws_connect(f"ws://127.0.0.1:{port}{path}",
                                                                    max_msg_size=0) as ws:
            cdp = Cdp(ws)
            pump = asyncio.create_task(cdp.pump())
            try:
                yield cdp
            finally:
                pump.cancel()
    finally:
        await end(proc)


async def open_tab(cdp: Cdp, viewport: Viewport, base: str, out_dir: Path, *, allow_location: bool) -> Tab:
    context_id = (await cdp.call("Target.createBrowserContext"))["browserContextId"]
    if allow_location:
        await cdp.call("Browser.grantPermissions", {"permissions": ["geolocation"], "origin": base,
                                                    "browserContextId": context_id})
    target = (await cdp.call("Target.createTarget", {"url": "about:blank",
                                                     "browserContextId": context_id}))["targetId"]
    session = (await cdp.call("Target.attachToTarget", {"targetId": target, "flatten": True}))["sessionId"]
    tab = Tab(cdp, session, context_id, viewport, out_dir)
    await tab.call("Page.enable")
    await tab.call("Runtime.enable")
    await tab.call("Emulation.setDeviceMetricsOverride", {
        "width": viewport.width, "height": viewport.height, "deviceScaleFactor": 2 if viewport.mobile else 1,
        "mobile": viewport.mobile})
    if viewport.mobile:
        await tab.call("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
    await tab.call("Emulation.setGeolocationOverride", {"latitude": HUE[0], "longitude": HUE[1],
                                                        "accuracy": 20})
    return tab


def make_jpeg(path: Path) -> None:
    """A small street-like photo (Pillow), so the upload path is a real JPEG."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), (120, 160, 200))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 300, 640, 480), fill=(70, 70, 70))
    draw.ellipse((250, 360, 420, 420), fill=(40, 60, 90))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    path.write_bytes(buffer.getvalue())


# --- the walk --------------------------------------------------------------------------------


async def walk(cdp: Cdp, server: Server, viewport: Viewport, out_dir: Path, photo: Path) -> Tab:
    base = f"http://127.0.0.1:{server.port}"
    desktop = not viewport.mobile
    tab = await open_tab(cdp, viewport, base, out_dir, allow_location=not desktop)
    print(f"{viewport.name} {viewport.width}×{viewport.height}")
    await tab.call("Page.navigate", {"url": base + "/"})
    await tab.wait_for("document.readyState === 'complete'")
    await tab.settle(0)
    await tab.shot("welcome-language")
    await tab.tap("tiếng việt")
    await tab.shot("consent")
    await tab.tap("✅ đồng ý")
    await tab.shot("home-area")
    await tab.tap("bỏ qua")
    await tab.shot("anonymity")
    await tab.tap("hiện tên")
    await tab.shot("menu")
    await tab.tap("gửi phản ánh")
    await tab.shot("category")
    await tab.tap("đường")
    await tab.shot("description")
    await tab.tap("bỏ qua")
    await tab.shot("photo-ask")
    await tab.upload(photo)
    await tab.shot("photo-sent")
    await tab.tap("xong")
    await tab.shot("where")
    if desktop:  # refused first: the error must be kind and say what to do
        before = await tab.bot_count()
        await tab.click_at("document.getElementById('location')")
        await tab.settle(before)
        await tab.shot("location-refused")
        await cdp.call("Browser.grantPermissions", {"permissions": ["geolocation"], "origin": base,
                                                    "browserContextId": tab.context_id})
    before = await tab.bot_count()
    await tab.click_at("document.getElementById('location')")
    await tab.settle(before)
    await tab.shot("location-sent")
    await tab.tap("📨")
    await tab.shot("code")
    await tab.tap("tình trạng")
    await tab.shot("status")
    await tab.shot("status-whole-chat", full=True)
    await server.stop()
    await tab.wait_for("document.getElementById('status').classList.contains('offline')")
    await asyncio.sleep(0.3)
    await tab.shot("reconnecting")
    await server.start()
    await tab.wait_for("document.getElementById('status').classList.contains('online')", within=60)
    await tab.type_and_send("menu")
    await tab.shot("after-reconnect-menu")
    return tab


async def main(args: argparse.Namespace, binary: str, out_dir: Path, work: Path) -> int:
    server = Server(args.port or free_port(), work)
    photo = work / "street.jpg"
    make_jpeg(photo)
    audits: dict[str, Any] = {}
    errors: list[str] = []
    try:
        await server.start()
        async with chromium(binary, work / "profile") as cdp:
            for viewport in (PHONE, DESKTOP):
                if args.only and viewport.name != args.only:
                    continue
                if server.proc is None:
                    await server.start()
                tab = await walk(cdp, server, viewport, out_dir, photo)
                audits.update(tab.audits)
            errors = cdp.js_errors
    finally:
        await server.stop()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    (out_dir / "audit.json").write_text(json.dumps({"audits": audits, "js_errors": errors}, ensure_ascii=False,
                                                   indent=1), encoding="utf-8")
    print(f"{len(audits)} screenshots in {out_dir}; JS errors: {len(errors)}")
    for error in errors:
        print("  js:", error)
    return 1 if errors else 0


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "webchat"), help="screenshot directory")
    parser.add_argument("--only", choices=("phone", "desktop"), help="one viewport only")
    parser.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    parser.add_argument("--keep", action="store_true", help="keep the temp DB, media and server log")
    args = parser.parse_args()
    binary = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not Path(binary).exists():
        print(f"skipped: {binary} not found (apt-get install -y chromium), no screenshots taken")
        sys.exit(0)
    out_dir = Path(args.out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.png"):
        old.unlink()
    work = Path(tempfile.mkdtemp(prefix="webchat-screens-"))
    sys.exit(asyncio.run(main(args, binary, out_dir, work)))


if __name__ == "__main__":
    cli()
