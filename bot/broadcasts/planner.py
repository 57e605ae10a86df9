"""Turns broadcasts into outbox rows, and closed polls into results broadcasts.

`BroadcastPlanner.run_once()` is safe to call from any number of processes at any time: it
closes polls whose time is up (creating one results broadcast per poll) and plans every
broadcast still in "planning" from its committed watermark onwards. Run it at start-up (to
resume after a crash) and periodically beside the outbox sender.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from bot.store import Store
from bot.store.broadcasts import BroadcastRepo, broadcast_repo
from bot.store.participation import ParticipationRepo, participation_repo

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (rows added by this chunk, planned so far)


class BroadcastPlanner:
    def __init__(self, store: Store, *, chunk: int = 20_000) -> None:
        self.broadcasts: BroadcastRepo = broadcast_repo(store)
        self.participation: ParticipationRepo = participation_repo(store)
        self.chunk = chunk

    async def plan(self, broadcast_id: int, progress: Progress | None = None) -> int:
        """Plan a broadcast to the end (resuming where it stopped). Returns its recipient count."""
        while True:
            added = await self.broadcasts.plan_chunk(broadcast_id, self.chunk)
            if added is None:
                break
            if progress is not None:
                info = await self.broadcasts.get(broadcast_id)
                progress(added, info.planned_count if info else 0)
        info = await self.broadcasts.get(broadcast_id)
        return info.planned_count if info else 0

    async def close_poll(self, poll_id: int) -> int:
        """Close a poll and send its results to every voter. Returns the results broadcast id."""
        poll = await self.participation.close_poll(poll_id)
        results = await self.broadcasts.create_poll_results(poll_id, poll.question, poll.area_codes)
        await self.plan(results.id)
        return results.id

    async def run_once(self) -> int:
        """Close due polls, then plan every unfinished broadcast. Returns broadcasts planned."""
        for poll_id in await self.participation.due_polls():
            log.info("poll %s reached its close time", poll_id)
            await self.close_poll(poll_id)
        pending = await self.broadcasts.planning()
        for broadcast_id in pending:
            count = await self.plan(broadcast_id)
            log.info("broadcast %s planned recipients=%s", broadcast_id, count)
        return len(pending)

    async def run(self, stop: asyncio.Event, interval: float = 10.0) -> None:
        """Loop `run_once` until `stop` is set; errors are logged and retried next round."""
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("broadcast planner round failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
            except TimeoutError:
                pass
