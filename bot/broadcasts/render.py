"""What one broadcast delivery says to its recipient, in their language.

Broadcast rows in the outbox carry no payload; the outbox worker calls the renderer registered
for kind "broadcast" with each due row. Content is read once per broadcast (and poll results
once per poll) and cached for the renderer's lifetime, so 1M deliveries cost 1M citizen look-ups
and a handful of broadcast reads. Every button here is an "anytime" payload: it works when tapped
days later, outside any dialog.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from bot.broadcasts.text import results_text
from bot.errors import NotFound
from bot.messages import Button, Outbound
from bot.store.broadcasts import BroadcastInfo, broadcast_repo
from bot.store.participation import ConsultationInfo, PollInfo, PollResults, participation_repo

if TYPE_CHECKING:
    from bot.context import AppContext

CACHE_SIZE = 64
K = TypeVar("K")
V = TypeVar("V")

STOP_PAYLOAD = "g:stop"


class DeliveryLike(Protocol):
    """The fields of an outbox row the renderer reads (the outbox's DeliveryView has them)."""

    @property
    def broadcast_id(self) -> int | None: ...

    @property
    def citizen_id(self) -> int | None: ...


class _Lru(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self.items.get(key)
        if value is not None:
            self.items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> V:
        self.items[key] = value
        if len(self.items) > self.size:
            self.items.popitem(last=False)
        return value


class BroadcastRenderer:
    """A `Renderer` for outbox rows of kind "broadcast" (see `default_renderers`)."""

    def __init__(self) -> None:
        self._broadcasts: _Lru[int, BroadcastInfo] = _Lru(CACHE_SIZE)
        self._polls: _Lru[int, PollInfo] = _Lru(CACHE_SIZE)
        self._results: _Lru[int, PollResults] = _Lru(CACHE_SIZE)
        self._consultations: _Lru[int, ConsultationInfo] = _Lru(CACHE_SIZE)

    async def __call__(self, ctx: AppContext, delivery: DeliveryLike) -> list[Outbound]:
        if delivery.broadcast_id is None or delivery.citizen_id is None:
            raise NotFound("broadcast delivery without broadcast or citizen")
        bcasts, part = broadcast_repo(ctx.store), participation_repo(ctx.store)
        broadcast = self._broadcasts.get(delivery.broadcast_id)
        if broadcast is None:
            found = await bcasts.get(delivery.broadcast_id)
            if found is None:
                raise NotFound(f"broadcast {delivery.broadcast_id}")
            broadcast = self._broadcasts.put(found.id, found)
        citizen = await ctx.store.citizens.get(delivery.citizen_id)
        locale = ctx.i18n.normalize_locale(citizen.locale if citizen else None)

        def t(key: str, **params: object) -> str:
            return ctx.i18n.t(locale, key, **params)

        stop = Button(t("part.btn.unsubscribe"), STOP_PAYLOAD)
        if broadcast.kind == "poll_result" and broadcast.poll_id is not None:
            results = self._results.get(broadcast.poll_id) or self._results.put(
                broadcast.poll_id, await part.results(broadcast.poll_id))
            mine = await part.my_vote(broadcast.poll_id, delivery.citizen_id)
            text = results_text(ctx.i18n, locale, results, area_id=citizen.home_area_id if citizen else None)
            if mine:
                chosen = ", ".join(results.poll.options[p - 1] for p in mine)
                text += "\n\n" + t("part.results.your_vote", choice=chosen)
            return [Outbound(t("part.bc.results_intro") + "\n" + text,
                             buttons=[[Button(t("part.btn.menu"), "g:menu")]])]
        if broadcast.kind == "poll" and broadcast.poll_id is not None:
            poll = self._polls.get(broadcast.poll_id) or self._polls.put(
                broadcast.poll_id, _need(await part.get_poll(broadcast.poll_id), "poll"))
            rows = [[Button(f"{i}️⃣ {label}"[:64], f"part:v:{poll.id}:{i}")] for i, label in
                    enumerate(poll.options, start=1)] if poll.method == "single" else [
                [Button(t("part.btn.vote"), f"part:poll:{poll.id}")]]
            body = t("part.bc.poll", question=poll.question, text=broadcast.text) if broadcast.text != poll.question \
                else t("part.bc.poll_only", question=poll.question)
            return [Outbound(body, buttons=[*rows, [stop]], image=broadcast.image)]
        if broadcast.kind == "consultation" and broadcast.consultation_id is not None:
            cons = self._consultations.get(broadcast.consultation_id) or self._consultations.put(
                broadcast.consultation_id,
                _need(await part.get_consultation(broadcast.consultation_id), "consultation"))
            body = t("part.bc.consultation", title=cons.title, summary=cons.summary,
                     deadline=ctx.i18n.datetime(cons.deadline, locale))
            if cons.link:
                body += "\n" + t("part.consult.link", link=cons.link)
            return [Outbound(body, buttons=[[Button(t("part.btn.comment"), f"part:c:{cons.id}")], [stop]],
                             image=broadcast.image)]
        return [Outbound(t("part.bc.announcement", text=broadcast.text), buttons=[[stop]], image=broadcast.image)]


def _need(value: V | None, what: str) -> V:
    if value is None:
        raise NotFound(what)
    return value


def default_renderers() -> Mapping[str, BroadcastRenderer]:
    """Renderers this feature contributes to the outbox worker, by Delivery.kind."""
    return {"broadcast": BroadcastRenderer()}


__all__ = ["BroadcastRenderer", "DeliveryLike", "default_renderers"]
