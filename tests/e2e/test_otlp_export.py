"""With the OTEL_* environment variables set, `serve` exports its spans over OTLP/HTTP
(protobuf) to the collector they name: here a receiver started by the test."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from bench.otlp_sink import OtlpSink
from tests.e2e.processes import server_env, serving

CLIENT_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture
def receiver() -> Iterator[OtlpSink]:
    server = OtlpSink()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


async def test_serve_exports_the_request_trace_to_the_otlp_endpoint(
    receiver: OtlpSink, tmp_path: object
) -> None:
    env = server_env(
        f"sqlite://{tmp_path}/agora.sqlite3",
        OTEL_TRACES_EXPORTER="otlp",
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
        OTEL_SERVICE_NAME="agora-under-test",
    )
    async with serving(env) as (_, port), httpx.AsyncClient() as http:
        response = await http.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": "query Ping { __typename }"},
            headers={"traceparent": f"00-{CLIENT_TRACE_ID}-00f067aa0ba902b7-01"},
        )
        assert response.json()["extensions"]["traceId"] == CLIENT_TRACE_ID
    # Stopped (SIGTERM): the batch of spans still buffered was flushed on the way out.

    assert {path for path, _ in receiver.exports} == {"/v1/traces"}
    resources = [rs for _, export in receiver.exports for rs in export.resource_spans]
    service_names = {
        attribute.value.string_value
        for rs in resources
        for attribute in rs.resource.attributes
        if attribute.key == "service.name"
    }
    assert service_names == {"agora-under-test"}
    names = {
        span.name: span.trace_id.hex()
        for rs in resources
        for scope in rs.scope_spans
        for span in scope.spans
    }
    assert names["POST /graphql"] == CLIENT_TRACE_ID
    assert names["query Ping"] == CLIENT_TRACE_ID
