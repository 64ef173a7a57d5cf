"""Prometheus metrics for the control API: requests by route template, latency, webhook events."""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_SERIES = 10_000
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_BOUNDS = (*(repr(b) for b in LATENCY_BUCKETS), "+Inf")  # the "le" labels, as prometheus_client writes them


class RequestMetrics(Collector):
    """Requests by (method, route, status) and latency by (method, route), counted without locks.

    prometheus_client's Counter/Histogram take a lock on every ``inc``/``observe``: a measurable share
    of `/token`'s CPU (issue 20.4). Every request is counted on the event loop's one thread, so plain
    integers do; the exposition format is built only when Prometheus scrapes.
    """

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, int], int] = {}
        # (method, route) -> [count per bucket (not cumulative) ..., +Inf count, sum of seconds]
        self.latency: dict[tuple[str, str], list[float]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        if key not in self.counts and len(self.counts) >= MAX_SERIES:
            # Clients choose the method (any token): past the bound, new series are pooled.
            method, route = "other", "other"
            key = (method, route, status)
        self.counts[key] = self.counts.get(key, 0) + 1
        series = self.latency.get((method, route))
        if series is None:
            series = self.latency[(method, route)] = [0.0] * (len(LATENCY_BUCKETS) + 2)
        series[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        series[-1] += seconds

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "escuta_http_requests", "HTTP requests by method, route template and status.",
            labels=["method", "route", "status"],
        )  # fmt: skip
        for (method, route, status), n in list(self.counts.items()):
            requests.add_metric([method, route, str(status)], n)
        yield requests
        latency = HistogramMetricFamily(
            "escuta_http_request_duration_seconds", "HTTP request latency by method and route template.",
            labels=["method", "route"],
        )  # fmt: skip
        for (method, route), series in list(self.latency.items()):
            cumulative, buckets = 0.0, []
            for bound, share in zip(_BOUNDS, series[:-1], strict=True):
                cumulative += share
                buckets.append((bound, cumulative))
            latency.add_metric([method, route], buckets, series[-1])
        yield latency


class ApiMetrics:
    """One registry per app, so tests and multiple apps in one process don't collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.http = RequestMetrics()
        self.registry.register(self.http)
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
        self.http = metrics.http

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
            # raw paths would explode label cardinality (bounded: methods x route templates x statuses).
            route = getattr(scope.get("route"), "path", "unmatched")
            self.http.observe(scope.get("method", ""), route, status, time.perf_counter() - start)
