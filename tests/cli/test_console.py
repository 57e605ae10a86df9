"""`tiengdan chat`: a whole report typed in a terminal, buttons shown as numbered lines."""

from __future__ import annotations

import io
import re
from pathlib import Path

from bot.context import AppContext
from bot.engine import Engine
from integrations.console import run_chat
from tests.harness import JPEG

_NUMBERED = re.compile(r"^(\d+)\. (.*)$")


class ScriptedStdin:
    """Lines a person types. `#label` types the number of the newest button with that label,
    read from what the chat printed, the way a person reads the numbered list."""

    def __init__(self, lines: list[str], out: io.StringIO) -> None:
        self.lines = list(lines)
        self.out = out

    def readline(self) -> str:
        if not self.lines:
            return ""  # Ctrl-D
        line = self.lines.pop(0)
        if line.startswith("#"):
            line = self._number_of(line[1:])
        return line + "\n"

    def _number_of(self, label: str) -> str:
        block: list[tuple[str, str]] = []  # the newest numbered list, in order
        for text in reversed(self.out.getvalue().splitlines()):
            match = _NUMBERED.match(text)
            if match:
                block.insert(0, (match.group(1), match.group(2)))
            elif block:
                break
        for same_case in (True, False):
            for number, choice in block:
                if label in choice if same_case else label.lower() in choice.lower():
                    return number
        raise AssertionError(f"no numbered choice {label!r} in:\n{self.out.getvalue()[-2000:]}")


async def chat(ctx: AppContext, engine: Engine, lines: list[str], user: str = "console-1",
               official: bool = False) -> tuple[str, int]:
    out = io.StringIO()
    handled = await run_chat(ctx, engine, user_id=user, stdin=ScriptedStdin(lines, out),  # type: ignore[arg-type]
                             out=out, official=official)
    return out.getvalue(), handled


async def test_report_from_the_terminal(app_ctx: AppContext, engine: Engine, tmp_path: Path) -> None:
    photo = tmp_path / "pothole.jpg"
    photo.write_bytes(JPEG)
    output, handled = await chat(app_ctx, engine, [
        "xin chào",
        "#Tiếng Việt",
        "#Đồng ý",
        "#Bỏ qua",
        "#Hiện tên",
        "#Gửi phản ánh",
        "#Rác",
        "Rác thải đổ bừa bãi ở đầu ngõ",
        "/photo /no/such/file.jpg",
        f"/photo {photo}",
        "#Xong",
        "/location sixteen 107",
        "/location 16.4637 107.5909",
        "#Gửi",
    ])
    assert "Tiếng Dân" in output.splitlines()[0] and "console-1" in output.splitlines()[0]
    assert re.search(r"^1\. 🇻🇳 Tiếng Việt$", output, re.M)
    assert app_ctx.i18n.t("vi", "web.console.file_missing", path="/no/such/file.jpg") in output
    assert app_ctx.i18n.t("vi", "web.console.bad_location") in output
    assert app_ctx.i18n.t("vi", "web.console.ask_location") in output  # the bot asked for a location
    assert "Mã phản ánh của bạn" in output
    assert output.rstrip().endswith(app_ctx.i18n.t("vi", "web.console.bye"))
    assert handled == 12  # the two mistyped commands never reached the engine

    citizen = await app_ctx.store.citizens.get_or_create("console", "console-1")
    [case] = await app_ctx.store.cases.list_for_citizen(citizen.id)
    assert case.display_code in output
    assert case.category == "environment_waste" and case.source_channel == "console"
    assert case.description == "Rác thải đổ bừa bãi ở đầu ngõ"
    assert case.area_name == "Phường Thuận Hóa"
    [attachment] = await app_ctx.store.cases.attachments(case.id)
    assert attachment.kind == "photo" and attachment.stored


async def test_official_mode_uses_its_own_identity(app_ctx: AppContext, engine: Engine) -> None:
    output, handled = await chat(app_ctx, engine, ["xin chào"], user="official-1", official=True)
    assert app_ctx.i18n.t("vi", "web.console.official_mode", user="official-1") in output
    assert handled == 1
    assert await app_ctx.store.citizens.identity_for("console", "official-1") is not None
    assert await app_ctx.store.citizens.identity_for("console", "console-1") is None


async def test_empty_input_and_contact(app_ctx: AppContext, engine: Engine) -> None:
    output, handled = await chat(app_ctx, engine, ["", "   ", "/contact", "/contact 0912 345 678"])
    assert app_ctx.i18n.t("vi", "web.console.bad_contact") in output
    assert handled == 1  # blank lines are skipped, the bad /contact is explained
