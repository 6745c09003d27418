"""Subscriptions over HTTP end to end: a real uvicorn, httpx reading graphql-sse event streams
and Apollo's multipart subscription responses, mutations over HTTP."""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.metrics import REGISTRY
from models.notifications import NotificationKind
from models.posts import PostStatus
from models.user import User
from services import events, notifications
from services.tokens import issue_access_token
from tests.e2e.conftest import LiveServer, subscribers
from tests.e2e.httpstream import MULTIPART_ACCEPT, SSE_ACCEPT, HTTPStreamClient, open_stream
from tests.e2e.processes import run_cli, server_env, serving
from tests.e2e.test_subscriptions import PASSWORD, create_published_posts, login
from tests.e2e.wsclient import connect
from tests.factories import create_post, create_user, gid

POST_PUBLISHED = "subscription { postPublished { id title author { name } } }"
NOTIFICATIONS = "subscription { notificationReceived { id kind title } }"
PUBLISH_POST = "mutation($id: ID!) { publishPost(id: $id) { id } }"
TRANSPORTS = [pytest.param(SSE_ACCEPT, id="sse"), pytest.param(MULTIPART_ACCEPT, id="multipart")]


def token_for(server: LiveServer, user: User) -> str:
    return issue_access_token(server.container.settings, user, uuid.uuid4())


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


def first_code(errors: list[dict[str, Any]]) -> str:
    return str(errors[0]["extensions"]["code"])


@pytest.fixture
async def server(live_server_factory: Callable[..., Any]) -> LiveServer:
    return await live_server_factory()  # type: ignore[no-any-return]


async def publish(server: LiveServer, title: str = "Hello") -> tuple[str, User]:
    """A draft published through the API; its global id and author."""
    author = await create_user(name="Ada")
    draft = await create_post(author, title=title, status=PostStatus.DRAFT)
    post_id = gid("Post", draft.id)
    await post_graphql(server, PUBLISH_POST, {"id": post_id}, token_for(server, author))
    return post_id, author


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_sse_receives_post_published_after_publish_post(server, method):
    async with open_stream(server.base_url, POST_PUBLISHED, method=method) as stream:
        assert stream.response.status_code == 200
        assert stream.response.headers["content-type"].startswith("text/event-stream")
        await subscribers(server, events.POST_PUBLISHED, 1)

        post_id, _ = await publish(server)

        message = await stream.receive()
        assert message.kind == "next"
        assert message.data["data"]["postPublished"] == {
            "id": post_id,
            "title": "Hello",
            "author": {"name": "Ada"},
        }


async def test_multipart_receives_post_published_after_publish_post(server):
    async with open_stream(server.base_url, POST_PUBLISHED, accept=MULTIPART_ACCEPT) as stream:
        assert stream.response.status_code == 200
        content_type = stream.response.headers["content-type"]
        assert content_type.startswith("multipart/mixed")
        assert 'boundary="graphql"' in content_type
        # httpx asks for gzip: a subscription stream is never compressed (a zlib state per
        # stream for its whole life).
        assert "content-encoding" not in stream.response.headers
        await subscribers(server, events.POST_PUBLISHED, 1)

        post_id, _ = await publish(server)

        message = await stream.receive()
        assert message.kind == "next"
        assert message.data["data"]["postPublished"]["id"] == post_id


@pytest.mark.parametrize("accept", TRANSPORTS)
async def test_an_idle_stream_gets_heartbeats(live_server_factory, accept):
    server = await live_server_factory(http_stream_heartbeat_seconds=0.1)
    async with open_stream(server.base_url, POST_PUBLISHED, accept=accept) as stream:
        kinds = [(await stream.receive(heartbeats=True)).kind for _ in range(3)]
    assert kinds == ["heartbeat"] * 3


async def test_a_query_over_sse_is_one_next_then_complete(server):
    author = await create_user()
    post = await create_post(author, title="Readable", status=PostStatus.PUBLISHED)
    async with open_stream(
        server.base_url, "query($id: ID!) { node(id: $id) { id } }", {"id": gid("Post", post.id)}
    ) as stream:
        message = await stream.receive()
        assert message.kind == "next"
        assert message.data["data"] == {"node": {"id": gid("Post", post.id)}}
        assert (await stream.receive()).kind == "complete"
        assert await stream.ended()


async def test_a_mutation_over_sse_runs_once(server):
    author = await create_user()
    draft = await create_post(author, status=PostStatus.DRAFT)
    async with open_stream(
        server.base_url,
        PUBLISH_POST,
        {"id": gid("Post", draft.id)},
        token=token_for(server, author),
    ) as stream:
        message = await stream.receive()
        assert message.data["data"]["publishPost"]["id"] == gid("Post", draft.id)
        assert (await stream.receive()).kind == "complete"


async def test_a_mutation_over_get_is_refused_with_405(server):
    async with open_stream(
        server.base_url, PUBLISH_POST, {"id": "UG9zdDox"}, method="GET"
    ) as stream:
        assert stream.response.status_code == 405
        assert stream.response.headers["allow"] == "GET, POST"
        assert first_code((await stream.json())["errors"]) == "BAD_USER_INPUT"


async def test_a_query_asking_for_multipart_subscriptions_is_answered_as_json(server):
    async with open_stream(server.base_url, "{ me { id } }", accept=MULTIPART_ACCEPT) as stream:
        assert stream.response.status_code == 200
        assert (await stream.json())["data"] == {"me": None}


async def test_a_stream_is_asked_for_with_a_json_body(server):
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.post(
            "/graphql",
            content=POST_PUBLISHED,
            headers={"Accept": SSE_ACCEPT, "Content-Type": "application/graphql"},
        )
    assert response.status_code == 415
    assert first_code(response.json()["errors"]) == "UNSUPPORTED_MEDIA_TYPE"


async def test_a_batch_cannot_be_streamed(server):
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.post(
            "/graphql", json=[{"query": POST_PUBLISHED}], headers={"Accept": SSE_ACCEPT}
        )
    assert response.status_code == 400
    assert first_code(response.json()["errors"]) == "BAD_USER_INPUT"


# --- authentication --------------------------------------------------------------------


async def test_notifications_reach_their_user_over_sse(server):
    ada = await create_user()
    async with open_stream(server.base_url, NOTIFICATIONS, token=token_for(server, ada)) as stream:
        await subscribers(server, notifications.topic(ada.id), 1)
        note = await notifications.notify(
            server.container, ada.id, NotificationKind.SYSTEM, "For Ada", "Hello Ada"
        )
        assert note is not None

        message = await stream.receive()
        assert message.data["data"]["notificationReceived"]["id"] == gid("Notification", note.id)


async def test_notifications_need_a_token_over_sse(server):
    """graphql-sse's protocol: a refusal before execution is a `next` carrying the errors,
    then `complete` (the client's EventSource cannot read an error status's body)."""
    async with open_stream(server.base_url, NOTIFICATIONS) as stream:
        assert stream.response.status_code == 200
        message = await stream.receive()
        assert message.kind == "next"
        assert "data" not in message.data
        assert first_code(message.data["errors"]) == "UNAUTHENTICATED"
        assert (await stream.receive()).kind == "complete"


async def test_notifications_need_a_token_over_multipart(server):
    """Apollo's protocol: an error before the subscription starts is a plain GraphQL
    response with its status."""
    async with open_stream(server.base_url, NOTIFICATIONS, accept=MULTIPART_ACCEPT) as stream:
        assert stream.response.status_code == 401
        body = await stream.json()
        assert first_code(body["errors"]) == "UNAUTHENTICATED"
        assert "data" not in body


@pytest.mark.parametrize("accept", TRANSPORTS)
async def test_a_bad_token_is_refused_with_401(server, accept):
    async with open_stream(
        server.base_url, POST_PUBLISHED, accept=accept, token="not-a-token"
    ) as stream:
        assert stream.response.status_code == 401
        assert stream.response.headers["www-authenticate"].startswith("Bearer")
        assert first_code((await stream.json())["errors"]) == "UNAUTHENTICATED"


# --- limits and cost --------------------------------------------------------------------

EXPENSIVE = "subscription { postPublished { comments(first: 50) { nodes { id } } } }"


async def test_cost_over_the_maximum_is_refused_over_multipart(live_server_factory):
    server = await live_server_factory(query_max_cost=5)
    async with open_stream(server.base_url, EXPENSIVE, accept=MULTIPART_ACCEPT) as stream:
        assert stream.response.status_code == 200  # a legacy client: request errors are 200
        errors = (await stream.json())["errors"]
    assert first_code(errors) == "QUERY_TOO_COMPLEX"
    assert errors[0]["extensions"]["requestedQueryCost"] > 5


async def test_cost_over_the_maximum_is_refused_over_sse(live_server_factory):
    server = await live_server_factory(query_max_cost=5)
    async with open_stream(server.base_url, EXPENSIVE) as stream:
        message = await stream.receive()
        assert first_code(message.data["errors"]) == "QUERY_TOO_COMPLEX"
        assert (await stream.receive()).kind == "complete"


async def test_subscribes_draw_from_the_rate_limit_bucket(live_server_factory):
    server = await live_server_factory(rate_limit_capacity=3, rate_limit_restore_rate=0.01)
    accept = "multipart/mixed;subscriptionSpec=1.0,application/graphql-response+json"
    async with open_stream(server.base_url, POST_PUBLISHED, accept=accept) as first:
        assert first.response.status_code == 200  # costs 2 of 3
        async with open_stream(server.base_url, POST_PUBLISHED, accept=accept) as second:
            assert second.response.status_code == 429
            assert int(second.response.headers["retry-after"]) >= 1
            assert first_code((await second.json())["errors"]) == "RATE_LIMITED"


async def test_document_limits_refuse_a_stream(live_server_factory):
    server = await live_server_factory(query_max_tokens=10)
    async with open_stream(server.base_url, POST_PUBLISHED) as stream:
        message = await stream.receive()
        assert first_code(message.data["errors"]) == "QUERY_TOO_COMPLEX"
        assert (await stream.receive()).kind == "complete"


async def test_connections_per_user_count_websockets_and_streams(live_server_factory):
    server = await live_server_factory(ws_max_connections_per_user=2)
    user = await create_user()
    token = token_for(server, user)
    async with (
        connect(server.ws_url) as socket,
        open_stream(server.base_url, POST_PUBLISHED, token=token) as first,
    ):
        assert (await socket.init(token))["type"] == "connection_ack"
        assert first.response.status_code == 200
        async with open_stream(
            server.base_url, POST_PUBLISHED, accept=MULTIPART_ACCEPT, token=token
        ) as refused:
            assert refused.response.status_code == 429
            assert first_code((await refused.json())["errors"]) == "RATE_LIMITED"
        async with open_stream(server.base_url, POST_PUBLISHED) as anonymous:
            assert anonymous.response.status_code == 200
    # Closed streams no longer count.
    async with open_stream(server.base_url, POST_PUBLISHED, token=token) as again:
        assert again.response.status_code == 200


# --- sharing and resources --------------------------------------------------------------


async def test_streams_and_websockets_share_one_execution_per_viewer(server):
    async with connect(server.ws_url) as socket:
        await socket.init()
        await socket.subscribe("feed", POST_PUBLISHED)
        await subscribers(server, events.POST_PUBLISHED, 1)  # the socket's group listens
        # A stream's response starts once its subscription has joined its group.
        async with (
            open_stream(server.base_url, POST_PUBLISHED) as sse,
            open_stream(server.base_url, POST_PUBLISHED, accept=MULTIPART_ACCEPT) as multipart,
        ):
            assert server.container.pubsub.subscriber_count(events.POST_PUBLISHED) == 1

            post_id, _ = await publish(server)

            for stream in (sse, multipart):
                assert (await stream.receive()).data["data"]["postPublished"]["id"] == post_id
            assert (await socket.receive())["payload"]["data"]["postPublished"]["id"] == post_id


@pytest.mark.parametrize("accept", TRANSPORTS)
async def test_a_client_that_leaves_frees_its_subscription(server, accept):
    labels = {"transport": "sse" if accept == SSE_ACCEPT else "multipart"}

    def open_streams() -> float:
        return REGISTRY.get_sample_value("graphql_http_streams", labels) or 0.0

    before = open_streams()
    async with open_stream(server.base_url, POST_PUBLISHED, accept=accept):
        await subscribers(server, events.POST_PUBLISHED, 1)
        assert open_streams() == before + 1
    await subscribers(server, events.POST_PUBLISHED, 0)
    async with asyncio.timeout(5):
        while open_streams() != before:  # noqa: ASYNC110 - polls the server's state
            await asyncio.sleep(0.01)


# --- clean shutdown: a real server process and SIGTERM ------------------------------------


async def titles_until_complete(stream: HTTPStreamClient) -> list[str]:
    titles = []
    while (message := await stream.receive(15)).kind == "next":
        titles.append(message.data["data"]["postPublished"]["title"])
    assert message.kind == "complete", message
    assert await stream.ended()
    return titles


async def test_sigterm_flushes_queued_events_then_completes_the_streams(tmp_path: Path):
    """Events already queued for a stream when SIGTERM arrives are sent, then the stream
    ends properly (graphql-sse's `complete`, multipart's closing delimiter)."""
    env = server_env(f"sqlite://{tmp_path}/agora.sqlite3")
    await run_cli(
        env, "create-user", "--name", "Author", "--email", "author@example.com",
        "--password", PASSWORD,
    )  # fmt: skip
    async with serving(env) as (process, port):
        base_url = f"http://127.0.0.1:{port}"
        feed = "subscription { postPublished { title } }"
        async with (
            httpx.AsyncClient(base_url=base_url) as http,
            open_stream(base_url, feed) as sse,
            open_stream(base_url, feed, accept=MULTIPART_ACCEPT) as multipart,
        ):
            token = await login(http)
            await create_published_posts(http, token, ["warm-up"])
            for stream in (sse, multipart):
                assert (await stream.receive()).kind == "next"  # subscribed and flowing

            titles = [f"post {number}" for number in range(30)]
            await create_published_posts(http, token, titles)
            process.send_signal(signal.SIGTERM)

            for stream in (sse, multipart):
                assert sorted(await titles_until_complete(stream)) == sorted(titles)
        async with asyncio.timeout(15):
            await process.wait()
