"""The API's request metrics: counted without locks, exposed in Prometheus' format (issue 20.4)."""

from __future__ import annotations

from prometheus_client import generate_latest

from control_api import metrics
from control_api.metrics import ApiMetrics


def _lines(m: ApiMetrics) -> set[str]:
    return {line for line in generate_latest(m.registry).decode().splitlines() if not line.startswith("#")}


def test_counts_and_cumulative_buckets() -> None:
    m = ApiMetrics()
    m.http.observe("GET", "/sessions", 200, 0.003)
    m.http.observe("GET", "/sessions", 200, 0.001)  # on a bound: counted in that bucket ("le")
    m.http.observe("GET", "/sessions", 404, 9.0)  # past the last bound: +Inf only
    lines = _lines(m)
    assert 'escuta_http_requests_total{method="GET",route="/sessions",status="200"} 2.0' in lines
    assert 'escuta_http_requests_total{method="GET",route="/sessions",status="404"} 1.0' in lines
    bucket = 'escuta_http_request_duration_seconds_bucket{{le="{}",method="GET",route="/sessions"}} {}'
    assert bucket.format("0.001", "1.0") in lines
    assert bucket.format("0.0025", "1.0") in lines
    assert bucket.format("0.005", "2.0") in lines
    assert bucket.format("5.0", "2.0") in lines
    assert bucket.format("+Inf", "3.0") in lines
    assert 'escuta_http_request_duration_seconds_count{method="GET",route="/sessions"} 3.0' in lines
    assert 'escuta_http_request_duration_seconds_sum{method="GET",route="/sessions"} 9.004' in lines


def test_client_chosen_methods_cannot_grow_the_series_without_bound() -> None:
    m = ApiMetrics()
    bound = metrics.MAX_SERIES
    for i in range(bound + 50):
        m.http.observe(f"X{i}", "unmatched", 405, 0.001)
    assert len(m.http.counts) == bound + 1  # the bound, plus one pooled series
    assert m.http.counts[("other", "other", 405)] == 50
