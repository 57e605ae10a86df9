"""Terminal chat (`tiengdan chat`): talk to the engine as a citizen or an official, line by line.

Buttons are shown as numbered lines (`Outbound.numbered_text()`); typing the number selects,
like on channels without buttons. `/photo PATH`, `/voice PATH`, `/location LAT LON` and
`/contact PHONE` send media; every other line (including bot commands like `/start`) is text.
End of input (Ctrl-D) quits.
"""

from __future__ import annotations

import asyncio
import logging
import math
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot.context import AppContext
from bot.engine import Engine
from bot.messages import Contact, Inbound, Location, Media, MediaKind, Outbound

log = logging.getLogger(__name__)

CHANNEL = "console"


@dataclass
class ConsoleChannel:
    """Proactive messages (status changes, replies) printed in the running chat."""

    out: TextIO
    i18n_locale: str
    ctx: AppContext
    name: str = CHANNEL

    async def send(self, user_id: str, messages: Sequence[Outbound]) -> None:
        for message in messages:
            print_message(self.out, self.ctx, self.i18n_locale, message)


def print_message(out: TextIO, ctx: AppContext, locale: str, message: Outbound) -> None:
    t = ctx.i18n.t
    out.write(f"{t(locale, 'web.console.bot')}: {message.numbered_text()}\n")
    if message.image:
        out.write(t(locale, "web.console.image", url=message.image) + "\n")
    if message.request_location:
        out.write(t(locale, "web.console.ask_location") + "\n")
    if message.request_contact:
        out.write(t(locale, "web.console.ask_contact") + "\n")
    out.write("\n")
    out.flush()


class LineError(Exception):
    """A console command typed wrongly; the message is a catalog key (`web.console.*`)."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


async def read_media(kind: MediaKind, path_text: str) -> Media:
    path = Path(path_text)
    try:
        data = await asyncio.to_thread(lambda: path.expanduser().read_bytes())
    except OSError as exc:
        raise LineError("web.console.file_missing", path=path_text) from exc
    return Media(kind=kind, data=data, filename=path.name, source_ref=CHANNEL)


async def parse_line(line: str, user_id: str) -> Inbound:
    """One typed line as an Inbound (media commands read their file)."""
    inbound = Inbound(channel=CHANNEL, user_id=user_id)
    command, _, rest = line.partition(" ")
    rest = rest.strip()
    if command in ("/photo", "/voice"):
        if not rest:
            raise LineError("web.console.file_missing", path="")
        path = shlex.split(rest)[0] if rest[0] in "'\"" else rest
        inbound.media.append(await read_media("photo" if command == "/photo" else "voice", path))
    elif command == "/location":
        parts = rest.replace(",", " ").split()
        try:
            lat, lon = (float(p) for p in parts)
        except ValueError as exc:
            raise LineError("web.console.bad_location") from exc
        if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
            raise LineError("web.console.bad_location")
        inbound.location = Location(lat=lat, lon=lon)
    elif command == "/contact":
        if not rest or len(rest) > 32:
            raise LineError("web.console.bad_contact")
        inbound.contact = Contact(phone=rest)
    else:
        inbound.text = line
    return inbound


async def run_chat(ctx: AppContext, engine: Engine, *, user_id: str, stdin: TextIO, out: TextIO,
                   official: bool = False) -> int:
    """Chat until end of input; returns the number of lines handled."""
    locale = ctx.settings.default_locale
    t = ctx.i18n.t
    ctx.channels.register(ConsoleChannel(out=out, i18n_locale=locale, ctx=ctx))
    out.write(t(locale, "web.console.banner", user=user_id) + "\n")
    if official:
        out.write(t(locale, "web.console.official_mode", user=user_id) + "\n")
    out.write(t(locale, "web.console.help") + "\n\n")
    out.flush()
    handled = 0
    while True:
        out.write(f"{t(locale, 'web.console.prompt')}> ")
        out.flush()
        raw = await asyncio.to_thread(stdin.readline)
        if not raw:
            out.write("\n" + t(locale, "web.console.bye") + "\n")
            out.flush()
            return handled
        line = raw.strip()
        if not line:
            continue
        try:
            inbound = await parse_line(line, user_id)
        except LineError as exc:
            out.write(t(locale, exc.key, **exc.params) + "\n\n")
            continue
        inbound.received_at = ctx.clock.now()
        try:
            replies = await engine.handle(inbound)
        except Exception:
            log.exception("console handling failed")
            replies = [engine.error_reply(locale)]
        handled += 1
        for reply in replies:
            print_message(out, ctx, locale, reply)
