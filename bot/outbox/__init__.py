"""The durable outbox: proactive messages (case notices, replies, digests, broadcasts).

Contract (other features build on it):

* `bot.outbox.enqueue.add_delivery(s, *, kind, now, citizen_id=None, official_id=None,
  messages=None, dedupe_key=None, broadcast_id=None, channel=None, channel_user_id=None)`
  queues one `Delivery` row in the caller's transaction (no await, like `session.add`);
  idempotent on `dedupe_key` and on (broadcast_id, citizen_id) via INSERT … ON CONFLICT DO
  NOTHING. Rows without `messages` are rendered at send time by the renderer for their kind.
* Target resolution at send time: an explicit channel + user id when given and registered;
  otherwise the citizen's most recently active reachable identity on a registered channel
  (an official's own channel identity).
* `bot.outbox.worker.OutboxWorker(ctx, *, worker_id, renderers=None)`: `run_once()` claims up
  to `settings.outbox_batch_size` due rows, sends, records (returns how many);
  `run(stop)` loops until the event is set. `Renderer = Callable[[AppContext, DeliveryView],
  Awaitable[list[Outbound]]]`; `default_renderers(extra)` builds the registry.
* Sending: `channel.admit()` first when the channel has it (window_closed → kept until the
  person writes again; quota/defer → retried at `retry_at`); per-channel token bucket
  (`telegram_rate_per_second`, `zalo_rate_per_second`; shared through Redis when configured);
  `RetryLater` → retry after `retry_after` or exponential backoff, `failed` after
  `outbox_max_attempts`; `PermanentSendError` → `failed` (and the identity marked unreachable);
  `WindowClosed` → `window_closed`.
* Statuses: pending → sending → sent | failed | skipped | window_closed | deferred.
* Claiming and crash behaviour: see `bot.outbox.worker`.
* Running: `bot.outbox.runner.outbox_cleanup_ctx(ctx, renderers=…)` for aiohttp,
  `run_sender(ctx, engine)` for `bot.server.background`, `tiengdan worker` standalone.
"""

from bot.outbox.enqueue import add_delivery
from bot.outbox.runner import outbox_cleanup_ctx, run_sender
from bot.outbox.views import DeliveryView
from bot.outbox.worker import OutboxWorker, Renderer, default_renderers

__all__ = [
    "DeliveryView",
    "OutboxWorker",
    "Renderer",
    "add_delivery",
    "default_renderers",
    "outbox_cleanup_ctx",
    "run_sender",
]
