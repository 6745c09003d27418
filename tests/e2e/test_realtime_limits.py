"""Real-time limits and metrics end to end (real uvicorn): the per-address cap on anonymous
connections, and the connection, subscription and delivery series on /metrics."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.exceptions import ConnectionClosed

from core.metrics import REGISTRY
from models.posts import PostStatus
from models.user import User
from services.tokens import issue_access_token
from tests.e2e.conftest import LiveServer
from tests.e2e.httpstream import MULTIPART_ACCEPT, SSE_ACCEPT, open_stream
from tests.e2e.wsclient import LEGACY_WS, TRANSPORT_WS, GraphQLWS, connect
from tests.factories import create_post, create_user, gid

FEED = "subscription Feed { postPublished { id title } }"
PUBLISH_POST = "mutation($id: ID!) { publishPost(id: $id) { id } }"
TOO_MANY_CONNECTIONS = 4429


def token_for(server: LiveServer, user: User) -> str:
    return issue_access_token(server.container.settings, user, uuid.uuid4())


async def refusal(client: GraphQLWS) -> tuple[int | None, str]:
    """Send an anonymous ``connection_init``; the close code and reason it is answered with."""
    await client.send({"type": "connection_init", "payload": {}})
    async with asyncio.timeout(5):
        with pytest.raises(ConnectionClosed) as closed:
            await client.socket.recv()  # nothing comes before the close
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_anonymous_websockets_per_address_are_capped(live_server_factory, protocol):
    server = await live_server_factory(ws_max_anonymous_connections_per_ip=2)
    async with (
        connect(server.ws_url, protocol) as first,
        connect(server.ws_url, protocol) as second,
    ):
        assert (await first.init())["type"] == "connection_ack"
        assert (await second.init())["type"] == "connection_ack"
        async with connect(server.ws_url, protocol) as third:
            code, reason = await refusal(third)
        assert code == TOO_MANY_CONNECTIONS
        assert reason.startswith("RATE_LIMITED: ")
        assert "at most 2" in reason
    # Closed sockets no longer count.
    async with connect(server.ws_url, protocol) as again:
        assert (await again.init())["type"] == "connection_ack"


async def test_the_address_cap_leaves_logged_in_users_to_their_own_limit(live_server_factory):
    server = await live_server_factory(ws_max_anonymous_connections_per_ip=1)
    token = token_for(server, await create_user())
    async with connect(server.ws_url) as anonymous, connect(server.ws_url) as user:
        assert (await anonymous.init())["type"] == "connection_ack"
        assert (await user.init(token))["type"] == "connection_ack"


@pytest.mark.parametrize("accept", [SSE_ACCEPT, MULTIPART_ACCEPT])
async def test_anonymous_streams_and_websockets_share_the_address_cap(live_server_factory, accept):
    server = await live_server_factory(ws_max_anonymous_connections_per_ip=1)
    token = token_for(server, await create_user())
    async with connect(server.ws_url) as socket:
        assert (await socket.init())["type"] == "connection_ack"
        async with open_stream(server.base_url, FEED, accept=accept) as refused:
            assert refused.response.status_code == 429
            assert refused.response.headers["retry-after"] == "5"
            errors = (await refused.json())["errors"]
            assert errors[0]["extensions"]["code"] == "RATE_LIMITED"
        async with open_stream(server.base_url, FEED, accept=accept, token=token) as user:
            assert user.response.status_code == 200
    async with open_stream(server.base_url, FEED, accept=accept) as anonymous:
        assert anonymous.response.status_code == 200


# --- the series on /metrics ---------------------------------------------------------------


async def scrape(server: LiveServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def active_feeds(expected: float) -> None:
    """Wait until this process follows ``expected`` Feed subscriptions."""
    async with asyncio.timeout(5):
        while REGISTRY.get_sample_value("subscriptions_active", {"operation": "Feed"}) != expected:  # noqa: ASYNC110 - polls the server's state
            await asyncio.sleep(0.01)


async def test_connections_subscriptions_and_deliveries_are_on_metrics(live_server):
    server = live_server
    before = await scrape(server)
    feeds = value(before, "subscriptions_active", operation="Feed")
    author = await create_user()
    draft = await create_post(author, title="Counted", status=PostStatus.DRAFT)
    async with (
        connect(server.ws_url, TRANSPORT_WS) as modern,
        connect(server.ws_url, LEGACY_WS) as legacy,
        open_stream(server.base_url, FEED) as sse,
        open_stream(server.base_url, FEED, accept=MULTIPART_ACCEPT) as multipart,
    ):
        for socket in (modern, legacy):
            await socket.init()
            await socket.subscribe("feed", FEED)
        await active_feeds(feeds + 4)
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            response = await http.post(
                "/graphql",
                json={"query": PUBLISH_POST, "variables": {"id": gid("Post", draft.id)}},
                headers={"Authorization": f"Bearer {token_for(server, author)}"},
            )
            assert "errors" not in response.json()
        for socket in (modern, legacy):
            assert (await socket.receive())["type"] in {"next", "data"}
        for stream in (sse, multipart):
            assert (await stream.receive()).kind == "next"

        during = await scrape(server)
        for transport in ("graphql-transport-ws", "graphql-ws", "sse", "multipart"):
            opened = value(during, "subscription_connections_active", transport=transport)
            assert (
                opened == value(before, "subscription_connections_active", transport=transport) + 1
            )
        assert value(during, "subscriptions_active", operation="Feed") == feeds + 4
        delivered = value(during, "subscription_deliveries_total", operation="Feed")
        assert delivered == value(before, "subscription_deliveries_total", operation="Feed") + 4

    await active_feeds(feeds)
    after = await scrape(server)
    for transport in ("graphql-transport-ws", "graphql-ws", "sse", "multipart"):
        assert value(after, "subscription_connections_active", transport=transport) == value(
            before, "subscription_connections_active", transport=transport
        )
    assert value(after, "subscription_drops_total", operation="Feed", reason="queue_full") == (
        value(before, "subscription_drops_total", operation="Feed", reason="queue_full")
    )
