"""Real-time limits and metrics end to end (real uvicorn): the per-address cap on anonymous
connections, the connection, subscription and delivery series on /metrics, and the drops
(a client too slow for its queue, a client leaving with events queued)."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.exceptions import ConnectionClosed

from core.metrics import REGISTRY
from models.posts import PostStatus
from models.user import User
from server.websocket import shared
from server.websocket.registry import SESSIONS_ENDED_CODE
from services.events import POST_PUBLISHED, post_published, sessions_ended
from services.tokens import issue_access_token
from tests.e2e.conftest import LiveServer, subscribers
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


# --- drops: a client that does not read, a client that leaves ------------------------------

SLOW_FEED = "subscription SlowFeed { postPublished { id title body } }"
QUEUE_BOUND = 2  # each member's outbound queue, lowered so a few events overflow it
BIG_BODY = "x" * 20_000  # the longest body a post may have: few events fill the socket


@asynccontextmanager
async def reluctant_reader(server: LiveServer) -> AsyncIterator[GraphQLWS]:
    """A graphql-transport-ws client that stops reading after its ``connection_ack``: a
    small receive buffer and one queued message at most, so the server's writes to it
    soon wait for the socket (uvicorn's transport above its high-water mark)."""
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    tcp.setblocking(False)
    host, port = server.base_url.removeprefix("http://").split(":")
    await asyncio.get_running_loop().sock_connect(tcp, (host, int(port)))
    # No permessage-deflate: the repeated body would shrink to nothing.
    async with connect(
        server.ws_url, TRANSPORT_WS, sock=tcp, max_queue=1, compression=None
    ) as client:
        try:
            yield client
        finally:
            # It would not read the server's close frame either: no handshake to wait for.
            client.socket.transport.abort()


def slow_feed_drops(reason: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "subscription_drops_total", {"operation": "SlowFeed", "reason": reason}
        )
        or 0.0
    )


async def publish_until_dropped(server: LiveServer, author: User) -> None:
    """Publish big posts one at a time until the slow member's queue has dropped one."""
    before = slow_feed_drops("queue_full")
    for number in range(400):
        post = await create_post(author, title=f"slow {number}", body=BIG_BODY)
        await post_published(server.container.pubsub, post)
        await asyncio.sleep(0.005)  # the leader executes it, the members take it
        if slow_feed_drops("queue_full") > before:
            return
    raise AssertionError("the slow subscriber never lost an event")


async def test_a_client_too_slow_for_its_queue_counts_queue_full_drops_as_they_happen(
    live_server, monkeypatch
):
    monkeypatch.setattr(shared, "MEMBER_QUEUE_SIZE", QUEUE_BOUND)
    server = live_server
    author = await create_user()
    async with reluctant_reader(server) as slow:
        assert (await slow.init())["type"] == "connection_ack"
        await slow.subscribe("slow", SLOW_FEED)
        await subscribers(server, POST_PUBLISHED, 1)
        # Counted while the member still waits on the socket, not when it next takes one.
        await publish_until_dropped(server, author)


async def test_events_still_queued_when_a_client_leaves_count_as_closed_drops(
    live_server, monkeypatch
):
    monkeypatch.setattr(shared, "MEMBER_QUEUE_SIZE", QUEUE_BOUND)
    server = live_server
    author = await create_user()
    before = slow_feed_drops("closed")
    async with reluctant_reader(server) as slow:
        assert (await slow.init())["type"] == "connection_ack"
        await slow.subscribe("slow", SLOW_FEED)
        await subscribers(server, POST_PUBLISHED, 1)
        await publish_until_dropped(server, author)
        # Its queue is full and one event waits for the socket: they are lost with it.
        slow.socket.transport.abort()
    await subscribers(server, POST_PUBLISHED, 0)
    assert slow_feed_drops("closed") == before + QUEUE_BOUND + 1


async def test_a_client_that_took_everything_leaves_without_closed_drops(live_server):
    server = live_server
    author = await create_user()
    before = REGISTRY.get_sample_value(
        "subscription_drops_total", {"operation": "Feed", "reason": "closed"}
    )
    async with connect(server.ws_url) as client:
        await client.init()
        await client.subscribe("feed", FEED)
        await subscribers(server, POST_PUBLISHED, 1)
        await post_published(server.container.pubsub, await create_post(author, title="Taken"))
        assert (await client.receive())["type"] == "next"
    await subscribers(server, POST_PUBLISHED, 0)
    after = REGISTRY.get_sample_value(
        "subscription_drops_total", {"operation": "Feed", "reason": "closed"}
    )
    assert after == before


# --- ending a user's sessions: one stuck socket delays none of the others --------------------

BURST = 20


def slow_feed_deliveries() -> float:
    labels = {"operation": "SlowFeed"}
    return REGISTRY.get_sample_value("subscription_deliveries_total", labels) or 0.0


async def publish_until_stuck(server: LiveServer, author: User) -> None:
    """Publish bursts of big posts until three bursts in a row deliver nothing to the slow
    socket: its writes then wait for good (the kernel's send buffer is full too, up to a
    few MB; a first drop only shows uvicorn's was)."""
    idle_bursts = 0
    for burst in range(100):
        before = slow_feed_deliveries()
        for number in range(BURST):
            post = await create_post(author, title=f"stuck {burst}.{number}", body=BIG_BODY)
            await post_published(server.container.pubsub, post)
        await asyncio.sleep(0.3)  # the leader executes them, the member takes what it can
        idle_bursts = idle_bursts + 1 if slow_feed_deliveries() == before else 0
        if idle_bursts == 3:
            return
    raise AssertionError("the socket never stopped taking events")


async def test_a_socket_that_does_not_read_delays_none_of_its_users_other_closes(
    live_server, monkeypatch, caplog
):
    """The stuck socket opened first (the registry closes a user's connections oldest
    first): closed one after the other, the others would wait for it."""
    monkeypatch.setattr(shared, "MEMBER_QUEUE_SIZE", QUEUE_BOUND)
    server = live_server
    user = await create_user()
    token = token_for(server, user)
    async with reluctant_reader(server) as stuck:
        assert (await stuck.init(token))["type"] == "connection_ack"
        await stuck.subscribe("slow", SLOW_FEED)
        await subscribers(server, POST_PUBLISHED, 1)
        stuck.socket.transport.pause_reading()  # not even into its library's buffer
        await publish_until_stuck(server, user)
        async with connect(server.ws_url) as first, connect(server.ws_url) as second:
            for client in (first, second):
                assert (await client.init(token))["type"] == "connection_ack"

            await sessions_ended(server.container.pubsub, user.id)

            assert await first.closed_with() == SESSIONS_ENDED_CODE
            assert await second.closed_with() == SESSIONS_ENDED_CODE
        # The registry stopped waiting for it; its close goes on, and comes once it reads.
        await logged(caplog, f"1 of 3 connections of user {user.id} not closed within")
        stuck.socket.transport.resume_reading()
        assert await stuck.closed_with(10) == SESSIONS_ENDED_CODE


async def logged(caplog: pytest.LogCaptureFixture, text: str) -> None:
    async with asyncio.timeout(10):
        while text not in caplog.text:  # noqa: ASYNC110 - the server's task logs it
            await asyncio.sleep(0.05)
