"""Prometheus counters for the Zalo channel (exported by the server's `/metrics`)."""

from __future__ import annotations

from prometheus_client import Counter

WEBHOOK_EVENTS = Counter(
    "tiengdan_zalo_webhook_events_total", "Zalo webhook requests by outcome", ["result"]
)
API_ERRORS = Counter("tiengdan_zalo_api_errors_total", "Zalo API errors by code", ["code"])
WINDOW_CLOSED = Counter(
    "tiengdan_zalo_window_closed_total", "Sends refused because the 7-day interaction window closed"
)
TOKEN_REFRESHES = Counter("tiengdan_zalo_token_refreshes_total", "Zalo token refreshes", ["result"])
INTAKE = Counter("tiengdan_zalo_intake_total", "Processed Zalo events by outcome", ["result"])
