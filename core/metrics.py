"""Prometheus metrics of the process (one registry; each worker process exposes its own)."""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)


@lru_cache(maxsize=4096)
def child(metric: Any, *labels: str) -> Any:
    """``metric.labels(*labels)``, kept: ``labels`` checks and locks on every call, and the
    request path records five labelled samples per request. (A metric here is never cleared,
    so a kept child stays the one the registry reads.)"""
    return metric.labels(*labels)


_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests by method, route template and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "http_request_duration_seconds",
    "HTTP request duration by method, route template and status code.",
    ["method", "route", "status"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
GRAPHQL_OPERATIONS = Counter(
    "graphql_operations_total",
    "GraphQL operations by operation name, type and outcome (success | error | rejected).",
    ["operation_name", "operation_type", "outcome"],
    registry=REGISTRY,
)
GRAPHQL_DURATION = Histogram(
    "graphql_operation_duration_seconds",
    "GraphQL operation duration by operation name, type and outcome.",
    ["operation_name", "operation_type", "outcome"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
GRAPHQL_QUERY_COST = Histogram(
    "graphql_query_cost",
    "Requested (static) cost of GraphQL operations.",
    ["operation_type"],
    buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000),
    registry=REGISTRY,
)
DEPENDENCY_FAILURES = Counter(
    "dependency_failures_total",
    "Dependency faults the server survived: it fell back, answered 503, or will retry the work.",
    ["dependency", "operation"],
    registry=REGISTRY,
)
HTTP_STREAMS = Gauge(
    "graphql_http_streams",
    "Operations streamed over HTTP right now, by transport (sse | multipart).",
    ["transport"],
    registry=REGISTRY,
)
JOB_RETRIES = Counter(
    "job_retries_total",
    "Failed job attempts that will be retried, by job.",
    ["job"],
    registry=REGISTRY,
)
JOBS_FAILED = Counter(
    "jobs_failed_total",
    "Jobs given up: every attempt failed, or the queue was closed before they could finish.",
    ["job"],
    registry=REGISTRY,
)

# Real-time metrics, declared here so that the subscription code and the dashboards name the
# same series. `transport`: graphql-transport-ws | graphql-ws | sse | multipart.
SUBSCRIPTION_CONNECTIONS = Gauge(
    "subscription_connections_active",
    "Open real-time connections (websocket or HTTP stream), by transport.",
    ["transport"],
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
SUBSCRIPTIONS_ACTIVE = Gauge(
    "subscriptions_active",
    "Running subscriptions, by operation name.",
    ["operation"],
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
SUBSCRIPTION_DELIVERIES = Counter(
    "subscription_deliveries_total",
    "Subscription results sent to a client, by operation name.",
    ["operation"],
    registry=REGISTRY,
)
SUBSCRIPTION_DROPS = Counter(
    "subscription_drops_total",
    "Subscription results not delivered, by operation name and reason "
    "(queue_full | closed | error).",
    ["operation", "reason"],
    registry=REGISTRY,
)


class BoundedLabel:
    """Keeps a client-chosen label (an operation name) from exploding the series count:
    the first ``limit`` distinct values are kept, later ones are reported as ``other``."""

    def __init__(self, limit: int = 200, max_length: int = 64) -> None:
        self._limit = limit
        self._max_length = max_length
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: str | None) -> str:
        if not value:
            return "anonymous"
        value = value[: self._max_length]
        if value in self._seen:
            return value
        with self._lock:
            if len(self._seen) < self._limit:
                self._seen.add(value)
                return value
        return "other"


operation_label = BoundedLabel()
