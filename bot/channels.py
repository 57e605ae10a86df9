"""The output side of a channel, as the engine and the outbox see it.

A channel delivers `Outbound` messages natively or as numbered text. Errors are the
`SendError` family: `RetryLater` (with the platform's retry_after), `PermanentSendError`,
`WindowClosed` (Zalo's interaction window).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from bot.messages import Outbound

SendKind = Literal["reply", "notification", "broadcast"]


@dataclass(frozen=True, slots=True)
class Admission:
    """A channel's verdict on a proactive send before it is tried (Zalo's window and quotas)."""

    allowed: bool
    status: str = "ok"  # ok | window_closed | quota | defer
    retry_at: datetime | None = None  # for "defer"/"quota": when it may go
    reason: str | None = None


@runtime_checkable
class AdmissionPolicy(Protocol):
    """Optional on a channel: the outbox asks before sending proactive messages."""

    async def admit(self, user_id: str, kind: SendKind, now: datetime) -> Admission: ...


@runtime_checkable
class Channel(Protocol):
    name: str

    async def send(self, user_id: str, messages: Sequence[Outbound]) -> None:
        """Deliver in order; raise a SendError subclass when it cannot."""
        ...


class ChannelRegistry:
    """Channels by name, filled by the composition root (bot/server.py, bot/cli.py)."""

    def __init__(self) -> None:
        self._channels: dict[str, Channel] = {}

    def register(self, channel: Channel) -> None:
        self._channels[channel.name] = channel

    def get(self, name: str) -> Channel | None:
        return self._channels.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._channels

    def __iter__(self) -> Iterator[Channel]:
        return iter(list(self._channels.values()))
