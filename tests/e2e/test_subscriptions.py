"""Subscriptions end to end: a real uvicorn, websocket clients, mutations over HTTP."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.typing import Origin

from models.notifications import Notification, NotificationKind
from models.orders import OrderStatus
from models.posts import PostStatus
from models.user import Role, User
from services import events, notifications
from services.tokens import issue_access_token
from tests.deadline import deadline
from tests.e2e.conftest import LiveServer, free_port, subscribers
from tests.e2e.processes import server_env
from tests.e2e.wsclient import LEGACY_WS, TRANSPORT_WS, GraphQLWS, connect
from tests.factories import create_order, create_post, create_product, create_user, gid

POST_PUBLISHED = "subscription { postPublished { id title author { name } } }"
NOTIFICATIONS = "subscription { notificationReceived { id kind title } }"
ORDER_UPDATED = "subscription($id: ID!) { orderUpdated(id: $id) { id status } }"
PUBLISH_POST = "mutation($id: ID!) { publishPost(id: $id) { id } }"


def token_for(server: LiveServer, user: User, issued: datetime | None = None) -> str:
    return issue_access_token(server.container.settings, user, uuid.uuid4(), now=issued)


async def post_graphql(
    server: LiveServer, query: str, variables: dict[str, Any] | None = None, token: str = ""
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        response = await client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body


def error_code(message: dict[str, Any]) -> str:
    payload = message["payload"]
    first = payload[0] if isinstance(payload, list) else payload
    return str(first["extensions"]["code"])


@pytest.fixture
async def server(live_server_factory: Callable[..., Any]) -> LiveServer:
    return await live_server_factory()  # type: ignore[no-any-return]


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_post_published_is_delivered_after_publish_post(server, protocol):
    author = await create_user(name="Ada")
    draft = await create_post(author, title="Hello", status=PostStatus.DRAFT)
    async with connect(server.ws_url, protocol) as client:
        assert (await client.init())["type"] == "connection_ack"
        await client.subscribe("feed", POST_PUBLISHED)
        await subscribers(server, events.POST_PUBLISHED, 1)

        await post_graphql(
            server, PUBLISH_POST, {"id": gid("Post", draft.id)}, token_for(server, author)
        )

        message = await client.receive()
        assert message["type"] == ("data" if client.legacy else "next")
        assert message["id"] == "feed"
        assert message["payload"]["data"]["postPublished"] == {
            "id": gid("Post", draft.id),
            "title": "Hello",
            "author": {"name": "Ada"},
        }


async def test_create_post_with_publish_is_delivered_and_a_draft_is_not(server):
    author = await create_user()
    token = token_for(server, author)
    create = (
        'mutation($p: Boolean) { createPost(input: {title: "Fresh", body: "b", publish: $p}) '
        "{ id } }"
    )
    async with connect(server.ws_url) as client:
        await client.init()
        await client.subscribe("feed", POST_PUBLISHED)
        await subscribers(server, events.POST_PUBLISHED, 1)

        await post_graphql(server, create, {"p": False}, token)
        assert await client.nothing_within(0.3)
        await post_graphql(server, create, {"p": True}, token)

        message = await client.receive()
        assert message["payload"]["data"]["postPublished"]["title"] == "Fresh"


async def test_each_event_is_served_with_fresh_loaders(server):
    """The author's name changes between two events: the second shows the new name."""
    author = await create_user(name="Before")
    token = token_for(server, author)
    first = await create_post(author, status=PostStatus.DRAFT)
    second = await create_post(author, status=PostStatus.DRAFT)
    async with connect(server.ws_url) as client:
        await client.init(token)
        await client.subscribe("feed", POST_PUBLISHED)
        await subscribers(server, events.POST_PUBLISHED, 1)

        await post_graphql(server, PUBLISH_POST, {"id": gid("Post", first.id)}, token)
        message = await client.receive()
        assert message["payload"]["data"]["postPublished"]["author"]["name"] == "Before"
        await post_graphql(
            server, 'mutation { updateProfile(input: {name: "After"}) { name } }', token=token
        )
        await post_graphql(server, PUBLISH_POST, {"id": gid("Post", second.id)}, token)

        message = await client.receive()
        assert message["payload"]["data"]["postPublished"]["author"]["name"] == "After"


async def test_notification_received_only_by_its_user(server):
    ada = await create_user()
    bob = await create_user()
    async with (
        connect(server.ws_url) as ada_client,
        connect(server.ws_url) as bob_client,
    ):
        await ada_client.init(token_for(server, ada))
        await bob_client.init(token_for(server, bob))
        await ada_client.subscribe("n", NOTIFICATIONS)
        await bob_client.subscribe("n", NOTIFICATIONS)
        await subscribers(server, notifications.topic(ada.id), 1)
        await subscribers(server, notifications.topic(bob.id), 1)

        note = await notifications.notify(
            server.container, ada.id, NotificationKind.SYSTEM, "For Ada", "Hello Ada"
        )
        assert note is not None
        message = await ada_client.receive()
        assert message["payload"]["data"]["notificationReceived"] == {
            "id": gid("Notification", note.id),
            "kind": "SYSTEM",
            "title": "For Ada",
        }
        assert await bob_client.nothing_within(0.3)

        # Even an event on Bob's topic naming Ada's notification is not shown to Bob.
        await server.container.pubsub.publish(notifications.topic(bob.id), {"id": note.id})
        assert await bob_client.nothing_within(0.3)
        assert await Notification.filter(user_id=bob.id).count() == 0


async def test_notification_received_needs_a_token(server):
    async with connect(server.ws_url) as client:
        await client.init()
        await client.subscribe("n", NOTIFICATIONS)

        message = await client.receive()
        assert message["type"] == "error"
        assert message["id"] == "n"
        assert error_code(message) == "UNAUTHENTICATED"


async def test_order_updated_for_the_buyer_and_forbidden_to_others(server):
    seller = await create_user()
    buyer = await create_user(balance_cents=10_000)
    other = await create_user()
    product = await create_product(seller, price_cents=1_000)
    order = await create_order(buyer, [(product, 1)])
    order_id = gid("Order", order.id)
    async with (
        connect(server.ws_url) as buyer_client,
        connect(server.ws_url) as other_client,
        connect(server.ws_url) as anonymous,
    ):
        await buyer_client.init(token_for(server, buyer))
        await other_client.init(token_for(server, other))
        await anonymous.init()
        await other_client.subscribe("o", ORDER_UPDATED, {"id": order_id})
        await anonymous.subscribe("o", ORDER_UPDATED, {"id": order_id})
        refused = await other_client.receive()
        assert refused["type"] == "error"
        assert error_code(refused) == "FORBIDDEN"
        assert error_code(await anonymous.receive()) == "UNAUTHENTICATED"

        await buyer_client.subscribe("o", ORDER_UPDATED, {"id": order_id})
        await subscribers(server, events.order_topic(order.id), 1)
        await post_graphql(
            server,
            "mutation($id: ID!) { cancelOrder(id: $id) { status } }",
            {"id": order_id},
            token_for(server, buyer),
        )

        message = await buyer_client.receive()
        assert message["payload"]["data"]["orderUpdated"] == {
            "id": order_id,
            "status": OrderStatus.CANCELLED.value,
        }


async def test_a_manager_follows_any_order(server):
    seller = await create_user()
    buyer = await create_user()
    admin = await create_user(role=Role.ADMIN)
    order = await create_order(buyer, [(await create_product(seller), 1)])
    async with connect(server.ws_url) as client:
        await client.init(token_for(server, admin))
        await client.subscribe("o", ORDER_UPDATED, {"id": gid("Order", order.id)})
        await subscribers(server, events.order_topic(order.id), 1)
        await post_graphql(
            server,
            "mutation($id: ID!) { completeOrder(id: $id) { status } }",
            {"id": gid("Order", order.id)},
            token_for(server, admin),
        )

        message = await client.receive()
        assert message["payload"]["data"]["orderUpdated"]["status"] == "COMPLETED"


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_invalid_token_at_connection_init_is_refused(server, protocol):
    async with connect(server.ws_url, protocol) as client:
        await client.send(
            {"type": "connection_init", "payload": {"Authorization": "Bearer forged"}}
        )
        if client.legacy:
            assert (await client.receive())["type"] == "connection_error"
            assert await client.closed_with() == 1011
        else:
            assert await client.closed_with() == 4403


async def test_subscriptions_per_connection_are_limited(live_server_factory):
    server = await live_server_factory(ws_max_subscriptions_per_connection=2)
    # Different selections: each has its own stream on the topic, which the test can count.
    feeds = [f"subscription {{ postPublished {{ {field} }} }}" for field in ("id", "title", "tags")]
    async with connect(server.ws_url) as client:
        await client.init()
        await client.subscribe("1", feeds[0])
        await client.subscribe("2", feeds[1])
        await client.subscribe("3", feeds[2])

        refused = await client.receive()
        assert refused["type"] == "error"
        assert refused["id"] == "3"
        assert error_code(refused) == "RATE_LIMITED"
        await subscribers(server, events.POST_PUBLISHED, 2)
        await client.complete("1")
        await subscribers(server, events.POST_PUBLISHED, 1)
        await client.subscribe("3", feeds[2])
        await subscribers(server, events.POST_PUBLISHED, 2)


async def test_identical_subscriptions_share_one_stream_per_viewer(server):
    """Identical subscriptions of one viewer share a stream (one execution per event);
    another viewer gets its own, with what that viewer may see."""
    author = await create_user(email="author@example.com")
    token = token_for(server, author)
    feed = "subscription { postPublished { title author { email } } }"
    async with (
        connect(server.ws_url) as first,
        connect(server.ws_url) as second,
        connect(server.ws_url) as own,
    ):
        await first.init()
        await second.init()
        await own.init(token)
        for client, operation_id in ((first, "a"), (first, "b"), (second, "a"), (own, "a")):
            await client.subscribe(operation_id, feed)
        await subscribers(server, events.POST_PUBLISHED, 2)  # anonymous + the author

        post = await create_post(author, title="Shared")
        await server.container.pubsub.publish(events.POST_PUBLISHED, {"id": post.id})

        anonymous_view = {"postPublished": {"title": "Shared", "author": {"email": None}}}
        received = [await first.receive(), await first.receive(), await second.receive()]
        assert {message["id"] for message in received[:2]} == {"a", "b"}
        assert all(message["payload"]["data"] == anonymous_view for message in received)
        mine = await own.receive()
        assert mine["payload"]["data"]["postPublished"]["author"]["email"] == "author@example.com"

        # A member leaving does not end the stream for the others.
        await first.complete("a")
        await first.complete("b")
        other = await create_post(author, title="Still shared")
        await server.container.pubsub.publish(events.POST_PUBLISHED, {"id": other.id})
        message = await second.receive()
        assert message["payload"]["data"]["postPublished"]["title"] == "Still shared"


async def test_connections_per_user_are_limited(live_server_factory):
    server = await live_server_factory(ws_max_connections_per_user=2)
    user = await create_user()
    token = token_for(server, user)
    async with connect(server.ws_url) as first, connect(server.ws_url) as second:
        assert (await first.init(token))["type"] == "connection_ack"
        assert (await second.init(token))["type"] == "connection_ack"
        async with connect(server.ws_url) as third:
            await third.send(
                {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
            )
            assert await third.closed_with() == 4403
        async with connect(server.ws_url) as anonymous:
            assert (await anonymous.init())["type"] == "connection_ack"
    # Closed sockets no longer count.
    async with connect(server.ws_url) as again:
        assert (await again.init(token))["type"] == "connection_ack"


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_connection_init_must_come_in_time(live_server_factory, protocol):
    server = await live_server_factory(ws_connection_init_timeout_seconds=0.3)
    async with connect(server.ws_url, protocol) as client:
        assert await client.closed_with(3) == 4408


async def test_an_expired_token_starts_no_new_subscription(server):
    """The token of a long-lived connection expires: what runs keeps running, nothing new
    starts (UNAUTHENTICATED); a new connection with a fresh token works."""
    user = await create_user()
    ttl = server.container.settings.access_token_ttl_seconds
    # Valid for about 3 more seconds (exp is whole seconds): room to connect and subscribe
    # on a loaded machine.
    expires = datetime.now(UTC) + timedelta(seconds=3)
    token = token_for(server, user, issued=expires - timedelta(seconds=ttl))
    async with connect(server.ws_url) as client:
        assert (await client.init(token))["type"] == "connection_ack"
        await client.subscribe("feed", POST_PUBLISHED)
        await subscribers(server, events.POST_PUBLISHED, 1)
        await asyncio.sleep((expires - datetime.now(UTC)).total_seconds() + 0.2)

        await client.subscribe("late", POST_PUBLISHED)
        refused = await client.receive()
        assert refused["id"] == "late"
        assert refused["type"] == "error"
        assert error_code(refused) == "UNAUTHENTICATED"
        post = await create_post(user, status=PostStatus.PUBLISHED)
        await server.container.pubsub.publish(events.POST_PUBLISHED, {"id": post.id})
        assert (await client.receive())["id"] == "feed"


async def test_a_revoked_token_starts_no_new_subscription(server):
    user = await create_user()
    async with connect(server.ws_url) as client:
        await client.init(token_for(server, user))
        user.token_version += 1  # what logout-all, a password change or a suspension do
        await user.save(update_fields=["token_version"])

        await client.subscribe("feed", POST_PUBLISHED)
        assert error_code(await client.receive()) == "UNAUTHENTICATED"


async def test_each_subscribe_is_charged_its_cost(live_server_factory):
    server = await live_server_factory(query_max_cost=5)
    expensive = "subscription { postPublished { comments(first: 50) { nodes { id } } } }"
    async with connect(server.ws_url) as client:
        await client.init()
        await client.subscribe("big", expensive)

        refused = await client.receive()
        assert refused["type"] == "error"
        assert error_code(refused) == "QUERY_TOO_COMPLEX"
        assert refused["payload"][0]["extensions"]["requestedQueryCost"] > 5


async def test_subscribes_draw_from_the_rate_limit_bucket(live_server_factory):
    server = await live_server_factory(rate_limit_capacity=3, rate_limit_restore_rate=0.01)
    async with connect(server.ws_url) as client:
        await client.init()
        for number in range(3):
            await client.subscribe(str(number), POST_PUBLISHED)  # costs 2 each
        messages = [await client.receive(), await client.receive()]

    assert {message["type"] for message in messages} == {"error"}
    assert {error_code(message) for message in messages} == {"RATE_LIMITED"}


async def test_document_limits_refuse_with_an_error_message(live_server_factory):
    server = await live_server_factory(query_max_tokens=10)
    async with connect(server.ws_url) as client:
        await client.init()
        await client.subscribe("long", POST_PUBLISHED)

        refused = await client.receive()
        assert refused["type"] == "error"
        assert error_code(refused) == "QUERY_TOO_COMPLEX"
        # The connection is still usable.
        await client.send({"type": "ping"})
        assert (await client.receive())["type"] == "pong"


async def test_a_nul_in_an_argument_over_the_socket_is_refused_with_an_error_message(server):
    async with connect(server.ws_url) as client:
        await client.init()
        await client.subscribe(
            "nul",
            "query($v: String) { posts(filter: {search: $v}) { totalCount } }",
            {"v": "a\u0000b"},
        )

        refused = await client.receive()
        assert refused["type"] == "error"
        assert error_code(refused) == "BAD_USER_INPUT"
        await client.send({"type": "ping"})
        assert (await client.receive())["type"] == "pong"


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_exploding_fragments_are_refused_over_the_socket(server, protocol):
    fragments = ["fragment F0 on Post { id }"] + [
        f"fragment F{i} on Post {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 26)
    ]
    document = f"subscription {{ postPublished {{ ...F25 }} }} {' '.join(fragments)}"
    async with connect(server.ws_url, protocol) as client:
        await client.init()
        with deadline():
            await client.subscribe("exploding", document)
            refused = await client.receive()

        assert refused["type"] == "error"
        assert error_code(refused) == "QUERY_TOO_COMPLEX"


async def test_queries_over_the_socket_use_the_connection_user(server):
    user = await create_user(name="Grace")
    async with connect(server.ws_url) as client:
        await client.init(token_for(server, user))
        await client.subscribe("q", "query { me { name } }")

        message = await client.receive()
        assert message["payload"]["data"] == {"me": {"name": "Grace"}}
        assert (await client.receive())["type"] == "complete"


async def test_an_allowed_origin_may_connect_and_others_may_not(live_server_factory):
    server = await live_server_factory(cors_allowed_origins=["https://app.example.com"])
    async with connect(server.ws_url, origin=Origin("https://app.example.com")) as client:
        assert (await client.init())["type"] == "connection_ack"
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        async with connect(server.ws_url, origin=Origin("https://evil.example.com")):
            pass
    assert refused.value.response.status_code == 403


# --- clean shutdown: a real server process and SIGTERM ----------------------------------


async def test_sigterm_flushes_queued_events_then_closes_with_1001(tmp_path: Path):
    """Events already queued for a client when SIGTERM arrives are delivered, then the
    subscription completes and the socket closes with 1001 (uvicorn alone would close it
    at once with 1012, dropping them)."""
    port = free_port()
    env = server_env(f"sqlite://{tmp_path}/agora.sqlite3")
    created = await asyncio.create_subprocess_exec(
        *SERVER,
        "create-user",
        "--name",
        "Author",
        "--email",
        "author@example.com",
        "--password",
        PASSWORD,
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
    )
    assert await created.wait() == 0
    process = await asyncio.create_subprocess_exec(
        *SERVER, "serve", "--port", str(port), env=env, cwd=PROJECT_ROOT
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base_url) as http:
            await _wait_ready(http, process)
            token = await login(http)
            async with connect(f"ws://127.0.0.1:{port}/graphql") as client:
                await client.init()
                await client.subscribe("feed", "subscription { postPublished { title } }")
                await create_published_posts(http, token, ["warm-up"])
                assert (await client.receive())["type"] == "next"  # subscribed and flowing

                titles = [f"post {number}" for number in range(30)]
                await create_published_posts(http, token, titles)
                process.send_signal(signal.SIGTERM)

                received = await _until_closed(client)
        assert sorted(received.titles) == sorted(titles)
        assert received.completed
        assert received.code == 1001
        async with asyncio.timeout(15):
            await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


PASSWORD = "Sup3r-secret!"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
SERVER = (sys.executable, "-m", "server")


class _Received:
    def __init__(self) -> None:
        self.titles: list[str] = []
        self.completed = False
        self.code: int | None = None


async def _until_closed(client: GraphQLWS) -> _Received:
    received = _Received()
    try:
        while True:
            message = await client.receive(15)
            if message["type"] == "next":
                received.titles.append(message["payload"]["data"]["postPublished"]["title"])
            elif message["type"] == "complete":
                received.completed = True
    except websockets.exceptions.ConnectionClosed as closed:
        received.code = closed.rcvd.code if closed.rcvd else None
    return received


async def _wait_ready(http: httpx.AsyncClient, process: asyncio.subprocess.Process) -> None:
    async with asyncio.timeout(30):
        while True:
            assert process.returncode is None, "the server exited"
            try:
                if (await http.get("/health/live")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)


async def login(http: httpx.AsyncClient) -> str:
    response = await http.post(
        "/graphql",
        json={
            "query": 'mutation($p: String!) { login(email: "author@example.com", '
            "password: $p) { accessToken } }",
            "variables": {"p": PASSWORD},
        },
    )
    return str(response.json()["data"]["login"]["accessToken"])


async def create_published_posts(http: httpx.AsyncClient, token: str, titles: list[str]) -> None:
    """All at once: their events are queued faster than one subscriber sends them."""
    query = (
        'mutation($t: String!) { createPost(input: {title: $t, body: "b", publish: true}) { id } }'
    )

    async def create(title: str) -> None:
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": {"t": title}},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert "errors" not in response.json(), response.json()

    await asyncio.gather(*(create(title) for title in titles))
