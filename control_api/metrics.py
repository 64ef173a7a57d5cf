"""Prometheus metrics for the control API: requests by route template, latency, webhook events."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ApiMetrics:
    """One registry per app, so tests and multiple apps in one process don't collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "escuta_http_requests_total",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "escuta_http_request_duration_seconds",
            "HTTP request latency by method and route template.",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self.webhook_events = Counter(
            "escuta_livekit_webhook_events_total",
            "LiveKit webhook events by type and outcome (stored, duplicate, rejected).",
            ["event", "outcome"],
            registry=self.registry,
        )


class MetricsMiddleware:
    """Pure ASGI middleware (cheaper than BaseHTTPMiddleware on the webhook hot path)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            # The route template (/sessions/{meeting_id}) that FastAPI matched, never the raw path:
            # raw paths would explode label cardinality.
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope.get("method", "")
            series = self._series.get((method, route, status))
            if series is None:
                # prometheus_client's labels() validates and locks on every call: its children are kept
                # here (bounded: methods x route templates x statuses).
                series = (
                    self.metrics.requests.labels(method, route, str(status)),
                    self.metrics.latency.labels(method, route),
                )
                if len(self._series) < 10_000:
                    self._series[(method, route, status)] = series
            series[0].inc()
            series[1].observe(time.perf_counter() - start)
