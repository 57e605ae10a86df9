"""Prometheus counters for the Zalo channel, in the app's registry (exported by `/metrics`).

Built once per app by setup.py in the registry of the server's `Metrics`; parts built without
one (the CLI, unit use) count into a private registry nobody reads.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class ZaloMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.webhook_events = Counter(
            "tiengdan_zalo_webhook_events", "Zalo webhook requests by outcome", ["result"], registry=self.registry
        )
        self.api_errors = Counter(
            "tiengdan_zalo_api_errors", "Zalo API errors by code", ["code"], registry=self.registry
        )
        self.window_closed = Counter(
            "tiengdan_zalo_window_closed",
            "Sends Zalo refused because the user's 7-day interaction window is closed (-230)",
            registry=self.registry,
        )
        self.token_refreshes = Counter(
            "tiengdan_zalo_token_refreshes", "Zalo token refreshes by outcome", ["result"], registry=self.registry
        )
        self.intake = Counter(
            "tiengdan_zalo_intake", "Processed Zalo events by outcome", ["result"], registry=self.registry
        )
