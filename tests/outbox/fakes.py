"""A channel that records what it was asked to send, and can be told to fail."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.channels import Admission, SendKind
from bot.errors import SendError
from bot.messages import Outbound


@dataclass
class RecordingChannel:
    name: str
    sent: list[tuple[str, list[Outbound]]] = field(default_factory=list)
    failures: list[SendError | BaseException] = field(default_factory=list)  # raised by the next sends

    async def send(self, user_id: str, messages: Sequence[Outbound]) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((user_id, list(messages)))

    def texts(self, user_id: str | None = None) -> list[str]:
        return [m.text for uid, msgs in self.sent if user_id in (None, uid) for m in msgs]


@dataclass
class GatedChannel(RecordingChannel):
    """A channel with an admission policy (like Zalo's interaction window)."""

    verdict: Admission = field(default_factory=lambda: Admission(True))

    async def admit(self, user_id: str, kind: SendKind, now: datetime) -> Admission:
        return self.verdict
