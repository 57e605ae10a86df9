"""Prometheus metrics for one running app, in its own `CollectorRegistry`.

A per-app registry (never the global default) keeps tests and several apps in one process
independent. The engine is wrapped by `MeteredEngine`, so every channel that calls
`engine.handle` is counted the same way without knowing about metrics.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.context import AppContext
from bot.engine import Engine
from bot.messages import Inbound, Outbound
from bot.router import Router

CONTENT_TYPE = CONTENT_TYPE_LATEST

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The counters and histograms the service exports on `GET /metrics`."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.inbound = Counter(
            "tiengdan_inbound_messages", "Messages received from users", ["channel"], registry=self.registry
        )
        self.replies = Counter(
            "tiengdan_replies", "Reply messages produced by the engine", ["channel"], registry=self.registry
        )
        self.errors = Counter(
            "tiengdan_errors", "Messages whose handling raised an error", ["channel"], registry=self.registry
        )
        self.rejected_frames = Counter(
            "tiengdan_rejected_frames", "Malformed channel input answered with an error", ["channel", "reason"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "tiengdan_handle_seconds", "Time to handle one inbound message", ["channel"],
            buckets=_LATENCY_BUCKETS, registry=self.registry,
        )

    def render(self) -> bytes:
        """The registry in Prometheus text exposition format."""
        return generate_latest(self.registry)


class MeteredEngine(Engine):
    """The engine, counting messages, replies, errors and latency per channel."""

    def __init__(self, ctx: AppContext, router: Router, metrics: Metrics) -> None:
        super().__init__(ctx, router)
        self.metrics = metrics

    async def handle(self, inbound: Inbound) -> list[Outbound]:
        channel = inbound.channel
        self.metrics.inbound.labels(channel).inc()
        started = time.perf_counter()
        try:
            replies = await super().handle(inbound)
        except Exception:
            self.metrics.errors.labels(channel).inc()
            raise
        finally:
            self.metrics.latency.labels(channel).observe(time.perf_counter() - started)
        if replies:
            self.metrics.replies.labels(channel).inc(len(replies))
        return replies
