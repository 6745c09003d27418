"""Prometheus metrics: every series the server exports is declared here, on one registry.

One process (``serve`` with one worker, the tests): ``/metrics`` is ``REGISTRY``, with
prometheus_client's ``ProcessCollector``. ``serve --workers N`` (N > 1): the CLI sets
``PROMETHEUS_MULTIPROC_DIR`` before the workers start, every value lives in a memory-mapped
file per process, and ``/metrics`` merges them all (``exposition``), whichever worker answers.
A gauge's ``multiprocess_mode`` says how the workers' values combine (``livesum``: the sum
over the living workers). Custom collectors do not work across processes, so there each
worker copies its own process figures into ``liveall`` gauges (a ``pid`` label; see
``core/process_metrics.py``).
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
    multiprocess,
)

REGISTRY = CollectorRegistry(auto_describe=True)
PROCESS = ProcessCollector(registry=REGISTRY)

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


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
GRAPHQL_ERRORS = Counter(
    "graphql_errors_total",
    "Errors answered to clients, by code: every error object of a response, a websocket "
    "message or a stream event, and every refusal made before execution.",
    ["code"],
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
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
# Jobs are labelled `job_name`: a `job` label would clash with the scrape job's, and
# Prometheus would keep it as `exported_job`.
JOB_RETRIES = Counter(
    "job_retries_total",
    "Failed job attempts that will be retried, by job.",
    ["job_name"],
    registry=REGISTRY,
)
JOBS_FAILED = Counter(
    "jobs_failed_total",
    "Jobs given up: every attempt failed, or the queue was closed before they could finish.",
    ["job_name"],
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

CACHE_LOOKUPS = Counter(
    "cache_lookups_total",
    "Cache lookups by kind (users, products, product_pages, responses) and result (hit | miss).",
    ["kind", "result"],
    registry=REGISTRY,
)
JOBS_COMPLETED = Counter(
    "jobs_completed_total",
    "Jobs that ran to success, by job.",
    ["job_name"],
    registry=REGISTRY,
)
JOBS_IN_PROCESS = Gauge(
    "jobs_in_process_pending",
    "Jobs running or waiting for a retry in this process's in-process queue (the queue "
    "without REDIS_URL, and the fallback while Redis cannot take a job).",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
JOB_QUEUE_DEPTH = Gauge(
    "job_queue_depth",
    "Jobs waiting in the shared saq queue on Redis, by queue (every API process sees the "
    "same list: the processes' maximum).",
    ["queue"],
    multiprocess_mode="livemax",
    registry=REGISTRY,
)
LOGIN_FAILURES = Counter(
    "login_failures_total",
    "Logins refused for a wrong email or password.",
    registry=REGISTRY,
)
ATTEMPTS_THROTTLED = Counter(
    "attempts_throttled_total",
    "Attempts refused by an attempt limit, by kind (login | account-email).",
    ["kind"],
    registry=REGISTRY,
)
COST_REFUSALS = Counter(
    "cost_refusals_total",
    "Operations refused for their cost, by reason: budget (the client's bucket had too few "
    "points, RATE_LIMITED), too_complex (over QUERY_MAX_COST), batch (the batch's sum over it).",
    ["reason"],
    registry=REGISTRY,
)
READINESS_CHECKS = Counter(
    "readiness_checks_total",
    "Readiness probes of each dependency (database | redis), by status (ok | unavailable).",
    ["check", "status"],
    registry=REGISTRY,
)
READINESS_UP = Gauge(
    "readiness_check_up",
    "1 when the last readiness probe of a dependency passed, else 0 (the workers' minimum).",
    ["check"],
    multiprocess_mode="livemin",
    registry=REGISTRY,
)

# Runtime: sampled by server/runtime_sampler.py and core/process_metrics.py.
EVENT_LOOP_LAG = Histogram(
    "event_loop_lag_seconds",
    "How late the event loop woke a periodic timer: time no request or event could run.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)
GC_PAUSES = Histogram(
    "python_gc_pause_seconds",
    "Garbage collector passes (the whole process stops meanwhile), by generation.",
    ["generation"],
    buckets=(0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
    registry=REGISTRY,
)
DB_POOL_CONNECTIONS = Gauge(
    "db_pool_connections",
    "PostgreSQL pool connections by state (in_use | idle); SQLite has no pool.",
    ["state"],
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
DB_POOL_MAX = Gauge(
    "db_pool_max_connections",
    "The PostgreSQL pool's maximum size (DB_POOL_MAX, summed over the workers).",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
DB_POOL_WAITING = Gauge(
    "db_pool_waiting",
    "Requests waiting for a PostgreSQL pool connection.",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)


def multiprocess_dir() -> str | None:
    """The directory of the workers' value files when ``serve --workers N`` set it up."""
    return os.environ.get(MULTIPROCESS_DIR_VARIABLE) or None


def exposition() -> bytes:
    """The text ``/metrics`` answers: this process's registry, or every worker's values."""
    path = multiprocess_dir()
    if path is None:
        return generate_latest(REGISTRY)
    _forget_dead_workers(path)
    merged = CollectorRegistry()
    multiprocess.MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
    return generate_latest(merged)


def _forget_dead_workers(path: str) -> None:
    """A worker killed without its shutdown (uvicorn restarts it) left its ``live*`` gauges:
    drop them, or its last connections and pool would be counted for ever."""
    pids = {
        int(name.rsplit("_", 1)[1].removesuffix(".db"))
        for name in os.listdir(path)
        if name.startswith("gauge_live") and name.endswith(".db")
    }
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            multiprocess.mark_process_dead(pid, path)  # type: ignore[no-untyped-call]
        except PermissionError:  # alive, another user's
            pass


def exported_metric_names() -> set[str]:
    """Every sample name the server can export (with ``_total``, ``_bucket``, ``_sum``,
    ``_count``, ``_created``), for checking what dashboards and alerts ask for."""
    names: set[str] = set()
    suffixes: tuple[str, ...]
    for family in REGISTRY.collect():
        if family.type == "histogram":
            suffixes = ("_bucket", "_sum", "_count", "_created")
        elif family.type == "counter":
            suffixes = ("_total", "_created")
        else:
            suffixes = ("",)
        names.update(family.name + suffix for suffix in suffixes)
    return names


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
