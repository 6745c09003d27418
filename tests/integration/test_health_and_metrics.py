"""Observability: liveness and readiness probes, the Prometheus exposition, the access log.

Metrics live in one process-global registry shared by every app the tests build, so the
metric tests compare a value before and after a request instead of asserting absolutes.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Route
from tortoise import connections

from core.logging import JsonFormatter, RequestContextFilter
from core.request_context import request_id_var
from server.middleware.access_log import ROUTE_MEMO_SIZE, AccessLogMiddleware
from tests.conftest import REDIS_URL, AppFactory, graphql

CLIENT_IP = "203.0.113.7"  # the client address conftest's ASGI transport reports
METRICS_TOKEN = "t" * 40
PROBE_QUERY = "query Probe { me { id } }"


async def scrape(client: httpx.AsyncClient, headers: dict[str, str] | None = None) -> str:
    response = await client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, response.text
    return response.text


def sample_value(exposition: str, name: str, labels: dict[str, str]) -> float:
    """The value of the sample ``name`` whose labels are exactly ``labels`` (0 if absent)."""
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


def access_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "agora.access"]


# --- health -----------------------------------------------------------------------------


async def test_liveness_answers_ok_without_touching_dependencies(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readiness_is_ok_when_every_dependency_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")

    expected_checks = {"database": "ok"}
    if REDIS_URL is not None:
        expected_checks["redis"] = "ok"
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": expected_checks}


async def test_readiness_is_503_and_degraded_when_the_database_refuses_connections(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionRefusedError("database is down")

    # Fault injection at the driver boundary: the connection object Tortoise hands out.
    monkeypatch.setattr(connections.get("default"), "execute_query", refuse)

    response = await client.get("/health/ready")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"] == "unavailable"


async def test_readiness_is_503_when_redis_is_unreachable(client_factory: AppFactory) -> None:
    client = client_factory(redis_url="redis://127.0.0.1:1")  # nothing listens on port 1

    response = await client.get("/health/ready")

    assert response.status_code == 503
    assert response.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "redis": "unavailable"},
    }


# --- metrics ----------------------------------------------------------------------------


async def test_a_graphql_request_is_counted_and_timed_under_its_route_template(
    client: httpx.AsyncClient,
) -> None:
    labels = {"method": "POST", "route": "/graphql", "status": "200"}
    before = await scrape(client)

    response = await graphql(client, PROBE_QUERY, operation_name="Probe")
    assert response.status_code == 200

    after = await scrape(client)
    for name in ("http_requests_total", "http_request_duration_seconds_count"):
        assert sample_value(after, name, labels) == sample_value(before, name, labels) + 1, name


async def test_a_graphql_operation_is_counted_by_name_type_and_outcome(
    client: httpx.AsyncClient,
) -> None:
    labels = {"operation_name": "Probe", "operation_type": "query", "outcome": "success"}
    before = await scrape(client)

    await graphql(client, PROBE_QUERY, operation_name="Probe")

    after = await scrape(client)
    for name in ("graphql_operations_total", "graphql_operation_duration_seconds_count"):
        assert sample_value(after, name, labels) == sample_value(before, name, labels) + 1, name


async def test_the_static_cost_of_each_query_is_observed(client: httpx.AsyncClient) -> None:
    labels = {"operation_type": "query"}
    before = await scrape(client)

    await graphql(client, PROBE_QUERY, operation_name="Probe")

    after = await scrape(client)
    assert sample_value(after, "graphql_query_cost_count", labels) == (
        sample_value(before, "graphql_query_cost_count", labels) + 1
    )


async def test_unknown_paths_share_one_unmatched_route_label(client: httpx.AsyncClient) -> None:
    raw_path = f"/no/such/page/{uuid.uuid4().hex}"
    labels = {"method": "GET", "route": "unmatched", "status": "404"}
    before = await scrape(client)

    response = await client.get(raw_path)
    assert response.status_code == 404

    after = await scrape(client)
    assert sample_value(after, "http_requests_total", labels) == (
        sample_value(before, "http_requests_total", labels) + 1
    )
    assert raw_path not in after, "a raw request path must never become a label value"


async def test_the_route_label_stays_right_past_the_remembered_paths() -> None:
    routes: list[BaseRoute] = [
        Route("/files/{key}", PlainTextResponse, methods=["GET"]),
        Route("/graphql", PlainTextResponse, methods=["POST"]),
    ]
    access_log = AccessLogMiddleware(PlainTextResponse("ok"), routes=routes)

    def label(method: str, path: str) -> str:
        return access_log.route_template({"type": "http", "method": method, "path": path})

    for number in range(ROUTE_MEMO_SIZE * 2 + 1):
        assert label("GET", f"/files/{number}") == "/files/{key}"
    assert label("POST", "/graphql") == "/graphql"
    assert label("GET", "/graphql") == "unmatched"
    assert label("POST", "/graphql") == "/graphql"


async def test_metrics_without_a_bearer_token_are_refused_when_a_token_is_configured(
    client_factory: AppFactory,
) -> None:
    client = client_factory(metrics_token=METRICS_TOKEN)

    missing = await client.get("/metrics")
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer " + "x" * 40})

    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "http_requests_total" not in response.text


async def test_metrics_with_the_configured_bearer_token_are_served(
    client_factory: AppFactory,
) -> None:
    client = client_factory(metrics_token=METRICS_TOKEN)

    response = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "http_requests_total" in response.text


# --- access log -------------------------------------------------------------------------


async def test_each_request_writes_one_access_record_describing_it(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agora.access")

    response = await graphql(client, PROBE_QUERY, operation_name="Probe")

    [record] = access_records(caplog)
    entry: Any = record.__dict__
    assert entry["method"] == "POST"
    assert entry["path"] == "/graphql"
    assert entry["status"] == response.status_code == 200
    assert entry["operationName"] == "Probe"
    assert entry["ip"] == CLIENT_IP
    assert entry["userId"] is None
    assert isinstance(entry["duration_ms"], float)
    assert entry["duration_ms"] >= 0


async def test_the_access_record_carries_the_request_id_echoed_to_the_client(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agora.access")

    first = await graphql(client, PROBE_QUERY, operation_name="Probe")
    second = await client.get("/health/live")

    records = access_records(caplog)
    assert [record.__dict__.get("requestId") for record in records] == [
        first.headers["x-request-id"],
        second.headers["x-request-id"],
    ]
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_a_request_that_is_not_graphql_logs_no_operation_name(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agora.access")

    await client.get("/no-such-page")

    [record] = access_records(caplog)
    assert record.__dict__["status"] == 404
    assert record.__dict__["path"] == "/no-such-page"
    assert record.__dict__["operationName"] is None


async def test_a_stream_is_logged_when_it_ends_and_marked_as_a_stream(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agora.access")

    response = await graphql(
        client, PROBE_QUERY, operation_name="Probe", headers={"Accept": "text/event-stream"}
    )

    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text.endswith("event: complete\ndata:\n\n")
    [record] = access_records(caplog)
    assert record.__dict__["stream"] is True
    assert record.__dict__["operationName"] == "Probe"
    assert record.__dict__["status"] == 200


async def test_a_plain_request_is_not_marked_as_a_stream(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agora.access")

    await graphql(client, PROBE_QUERY, operation_name="Probe")

    [record] = access_records(caplog)
    assert "stream" not in record.__dict__


def make_record(message: str, exc_info: Any = None) -> logging.LogRecord:
    return logging.LogRecord(
        name="agora.test",
        level=logging.INFO if exc_info is None else logging.ERROR,
        pathname=__file__,
        lineno=1,
        msg=message,
        args=(),
        exc_info=exc_info,
    )


def test_json_formatter_writes_one_json_object_per_line_with_the_request_id() -> None:
    record = make_record("hello\nworld")
    token = request_id_var.set("req-0123456789")
    try:
        assert RequestContextFilter().filter(record)
    finally:
        request_id_var.reset(token)

    line = JsonFormatter().format(record)

    assert "\n" not in line
    entry = json.loads(line)
    assert entry["requestId"] == "req-0123456789"
    assert entry["msg"] == "hello\nworld"
    assert entry["level"] == "info"
    assert entry["logger"] == "agora.test"
    assert entry["ts"].endswith("+00:00")


def test_json_formatter_keeps_an_exception_stack_inside_the_one_line() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = make_record("failed", exc_info=sys.exc_info())

    line = JsonFormatter().format(record)

    assert "\n" not in line
    entry = json.loads(line)
    assert entry["exc_type"] == "RuntimeError"
    assert entry["stack"].startswith("Traceback")
    assert "RuntimeError: boom" in entry["stack"]
