"""Opening a subscription stream over HTTP, through the ASGI app (the streams themselves are
tested against a real uvicorn in tests/e2e/test_http_subscriptions.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from server.app import create_app
from server.container import Container
from tests.conftest import make_settings

FEED = "subscription { postPublished { id } }"


@pytest.fixture
async def app(db: None) -> AsyncIterator[Starlette]:
    settings = make_settings()
    container = Container.from_settings(settings, key_prefix=f"test:{uuid.uuid4().hex}:")
    yield create_app(settings, manage_database=False, container=container)
    await container.close()


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.mark.parametrize(
    "accept", ["text/event-stream", "multipart/mixed;subscriptionSpec=1.0,application/json"]
)
async def test_a_stream_asked_for_while_the_server_drains_is_refused_with_503(
    app: Starlette, http: httpx.AsyncClient, accept: str
) -> None:
    app.state.graphql_view.websockets.draining = True  # what SIGTERM starts with

    response = await http.post("/graphql", json={"query": FEED}, headers={"Accept": accept})

    assert response.status_code == 503
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"


async def test_a_subscription_sent_as_plain_json_names_the_streaming_transports(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post("/graphql", json={"query": FEED})

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["reason"] == "SUBSCRIPTION_OVER_HTTP"
    assert "text/event-stream" in error["message"]
    assert "subscriptionSpec=1.0" in error["message"]
