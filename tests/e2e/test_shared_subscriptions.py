"""Shared execution across viewers: subscribers whose answers cannot differ share one
execution per event, and no viewer ever receives a value only another viewer's identity or
role allowed (each role, the author against the others, many distinct viewers)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from decimal import Decimal
from typing import Any

import pytest

from models.notifications import NotificationKind
from models.posts import PostStatus
from models.user import Role, User
from services import events, notifications
from tests.e2e.conftest import LiveServer, subscribers
from tests.e2e.test_subscriptions import post_graphql, token_for
from tests.e2e.wsclient import GraphQLWS, connect
from tests.factories import create_order, create_post, create_product, create_user, gid

PUBLIC_FEED = "subscription { postPublished { id title author { name } } }"
PRIVATE_FIELDS = "subscription { postPublished { title author { id email balance permissions } } }"
AUTHOR_POSTS = (
    "subscription { postPublished { author { id posts(first: 10) { totalCount "
    "nodes { title status } } } } }"
)


@pytest.fixture
async def server(live_server_factory: Callable[..., Any]) -> LiveServer:
    return await live_server_factory()  # type: ignore[no-any-return]


class Viewers:
    """Open websockets, one per viewer (None: anonymous), each subscribed to one document."""

    def __init__(self, server: LiveServer, stack: AsyncExitStack) -> None:
        self.server = server
        self.stack = stack

    async def subscribe(self, viewer: User | None, query: str, **variables: Any) -> GraphQLWS:
        client = await self.stack.enter_async_context(connect(self.server.ws_url))
        await client.init(token_for(self.server, viewer) if viewer is not None else None)
        await client.subscribe("s", query, variables or None)
        return client


@pytest.fixture
async def viewers(server: LiveServer) -> AsyncIterator[Viewers]:
    async with AsyncExitStack() as stack:
        yield Viewers(server, stack)


async def publish(server: LiveServer, author: User, title: str, **fields: Any) -> int:
    post = await create_post(author, title=title, **fields)
    await server.container.pubsub.publish(events.POST_PUBLISHED, {"id": post.id})
    return int(post.id)


async def data_of(client: GraphQLWS) -> dict[str, Any]:
    message = await client.receive()
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    return message["payload"]["data"]  # type: ignore[no-any-return]


async def test_viewers_of_a_selection_without_private_fields_share_one_execution(server, viewers):
    author = await create_user(name="Ada")
    clients = [
        await viewers.subscribe(viewer, PUBLIC_FEED)
        for viewer in (
            None,
            await create_user(),
            await create_user(),
            await create_user(role=Role.MODERATOR),
            await create_user(role=Role.ADMIN),
            author,
        )
    ]
    # One stream on the topic: one group, one execution per event.
    await subscribers(server, events.POST_PUBLISHED, 1)

    post_id = await publish(server, author, "For everyone")

    expected = {
        "postPublished": {
            "id": gid("Post", post_id),
            "title": "For everyone",
            "author": {"name": "Ada"},
        }
    }
    for client in clients:
        assert await data_of(client) == expected


async def test_each_role_and_the_author_see_only_what_they_may(server, viewers):
    author = await create_user(email="ada@example.com", balance_cents=1234)
    other = await create_user(email="bob@example.com")
    moderator = await create_user(role=Role.MODERATOR)
    admin = await create_user(role=Role.ADMIN)
    anonymous_client = await viewers.subscribe(None, PRIVATE_FIELDS)
    other_client = await viewers.subscribe(other, PRIVATE_FIELDS)
    author_client = await viewers.subscribe(author, PRIVATE_FIELDS)
    moderator_client = await viewers.subscribe(moderator, PRIVATE_FIELDS)
    admin_client = await viewers.subscribe(admin, PRIVATE_FIELDS)
    # A group per role (anonymous, USER, MODERATOR, ADMIN): the author shares USER's.
    await subscribers(server, events.POST_PUBLISHED, 4)

    await publish(server, author, "Mine")

    def author_seen(email: str | None, balance: str | None, permissions: list[str]) -> Any:
        return {
            "postPublished": {
                "title": "Mine",
                "author": {
                    "id": gid("User", author.id),
                    "email": email,
                    "balance": balance,
                    "permissions": permissions,
                },
            }
        }

    own_permissions = ["READ_POSTS", "WRITE_POSTS"]
    assert await data_of(anonymous_client) == author_seen(None, None, [])
    assert await data_of(other_client) == author_seen(None, None, [])
    assert await data_of(author_client) == author_seen(
        "ada@example.com", str(Decimal("12.34")), own_permissions
    )
    # READ_USERS shows the email and permissions; only MANAGE_ORDERS (ADMIN) the balance.
    assert await data_of(moderator_client) == author_seen("ada@example.com", None, own_permissions)
    assert await data_of(admin_client) == author_seen(
        "ada@example.com", str(Decimal("12.34")), own_permissions
    )

    # The next event is by the other user: now the author is one of the others.
    await publish(server, other, "Not mine")
    seen_by_author = await data_of(author_client)
    assert seen_by_author["postPublished"]["author"]["email"] is None
    assert seen_by_author["postPublished"]["author"]["balance"] is None
    seen_by_other = await data_of(other_client)
    assert seen_by_other["postPublished"]["author"]["email"] == "bob@example.com"


async def test_only_the_author_and_moderators_see_the_author_s_drafts(server, viewers):
    author = await create_user()
    await create_post(author, title="Draft", status=PostStatus.DRAFT)
    other_client = await viewers.subscribe(await create_user(), AUTHOR_POSTS)
    author_client = await viewers.subscribe(author, AUTHOR_POSTS)
    moderator_client = await viewers.subscribe(await create_user(role=Role.MODERATOR), AUTHOR_POSTS)
    anonymous_client = await viewers.subscribe(None, AUTHOR_POSTS)
    await subscribers(server, events.POST_PUBLISHED, 3)

    await publish(server, author, "Published")

    def titles(data: dict[str, Any]) -> set[str]:
        posts = data["postPublished"]["author"]["posts"]
        assert posts["totalCount"] == len(posts["nodes"])
        return {node["title"] for node in posts["nodes"]}

    assert titles(await data_of(author_client)) == {"Draft", "Published"}
    assert titles(await data_of(moderator_client)) == {"Draft", "Published"}
    assert titles(await data_of(other_client)) == {"Published"}
    assert titles(await data_of(anonymous_client)) == {"Published"}


async def test_followers_of_an_order_share_its_events_and_keep_their_own_view(server, viewers):
    buyer = await create_user(email="buyer@example.com")
    admin = await create_user(role=Role.ADMIN)
    product = await create_product(await create_user())
    order = await create_order(buyer, [(product, 1)])
    query = "subscription($id: ID!) { orderUpdated(id: $id) { status buyer { email } } }"
    buyer_client = await viewers.subscribe(buyer, query, id=gid("Order", order.id))
    admin_client = await viewers.subscribe(admin, query, id=gid("Order", order.id))
    await subscribers(server, events.order_topic(order.id), 2)  # USER and ADMIN groups

    await server.container.pubsub.publish(events.order_topic(order.id), {"id": order.id})

    assert (await data_of(buyer_client))["orderUpdated"]["buyer"]["email"] == "buyer@example.com"
    assert (await data_of(admin_client))["orderUpdated"]["buyer"]["email"] == "buyer@example.com"


async def test_a_notification_reaches_only_its_user_s_stream(server, viewers):
    users = [await create_user() for _ in range(3)]
    query = "subscription { notificationReceived { title } }"
    clients = [await viewers.subscribe(user, query) for user in users]
    for user in users:
        await subscribers(server, notifications.topic(user.id), 1)

    await notifications.notify(
        server.container, users[1].id, NotificationKind.SYSTEM, "For you", "…"
    )

    assert (await data_of(clients[1]))["notificationReceived"]["title"] == "For you"
    assert await clients[0].nothing_within(0.2)
    assert await clients[2].nothing_within(0.0)


async def test_many_distinct_viewers_each_get_exactly_their_events(server, viewers):
    """Twelve viewers of every kind on a selection with private fields: each receives each
    event once, in order, with the values its own identity and role allow."""
    authors = [await create_user(email=f"author{n}@example.com") for n in range(3)]
    readers: list[User | None] = [
        *authors,
        *[await create_user() for _ in range(4)],
        await create_user(role=Role.MODERATOR),
        await create_user(role=Role.ADMIN),
        None,
        None,
        None,
    ]
    query = "subscription { postPublished { title author { id email } } }"
    clients = [await viewers.subscribe(reader, query) for reader in readers]
    await subscribers(server, events.POST_PUBLISHED, 4)  # anonymous, USER, MODERATOR, ADMIN

    published = [(author, f"Post {n}") for n, author in enumerate(authors * 2)]
    for author, title in published:
        await publish(server, author, title)

    async def received(client: GraphQLWS) -> list[tuple[str, str | None]]:
        events_seen = [await data_of(client) for _ in published]
        assert await client.nothing_within(0.1)
        return [
            (seen["postPublished"]["title"], seen["postPublished"]["author"]["email"])
            for seen in events_seen
        ]

    results = await asyncio.gather(*(received(client) for client in clients))
    for reader, seen in zip(readers, results, strict=True):
        sees_emails = reader is not None and reader.role is not Role.USER
        assert seen == [
            (
                title,
                author.email
                if sees_emails or (reader is not None and reader.id == author.id)
                else None,
            )
            for author, title in published
        ]


async def test_the_groups_of_an_event_share_one_batch_of_relation_loads(
    server, viewers, sql_statements
):
    """Four groups (a private field, four roles) on one event: the row, the comment count
    and the author are each loaded once for all of them, not once per group."""
    author = await create_user()
    query = "subscription { postPublished { title commentCount author { name email } } }"
    readers = [None, await create_user(), await create_user(role=Role.MODERATOR)]
    clients = [await viewers.subscribe(reader, query) for reader in readers]
    clients.append(await viewers.subscribe(await create_user(role=Role.ADMIN), query))
    await subscribers(server, events.POST_PUBLISHED, 4)
    post = await create_post(author, title="Counted")
    sql_statements.reset()

    await server.container.pubsub.publish(events.POST_PUBLISHED, {"id": post.id})
    for client in clients:
        assert (await data_of(client))["postPublished"]["commentCount"] == 0

    assert sql_statements.count == 3


async def test_a_user_suspended_mid_stream_receives_nothing_more(server, viewers):
    """Their subscriptions were admitted with a token that no longer works: every process
    closes their connections (4403) as soon as the suspension commits, before any further
    event could be served to them by their old role."""
    suspended = await create_user(role=Role.MODERATOR)
    admin = await create_user(role=Role.ADMIN)
    moderator = await create_user(role=Role.MODERATOR)
    suspended_client = await viewers.subscribe(suspended, PRIVATE_FIELDS)
    moderator_client = await viewers.subscribe(moderator, PRIVATE_FIELDS)
    await subscribers(server, events.POST_PUBLISHED, 1)  # one MODERATOR group
    author = await create_user(email="ada@example.com")
    await publish(server, author, "Before")
    assert (await data_of(suspended_client))["postPublished"]["author"]["email"]
    assert (await data_of(moderator_client))["postPublished"]["author"]["email"]

    await post_graphql(
        server,
        "mutation($id: ID!) { suspendUser(id: $id) { status } }",
        {"id": gid("User", suspended.id)},
        token_for(server, admin),
    )

    assert await suspended_client.closed_with() == 4403
    await publish(server, author, "After")
    seen = await data_of(moderator_client)
    assert seen["postPublished"]["title"] == "After"
    assert seen["postPublished"]["author"]["email"] == "ada@example.com"


async def test_a_role_change_mid_stream_ends_the_old_role_s_subscriptions(server, viewers):
    demoted = await create_user(role=Role.ADMIN)
    admin = await create_user(role=Role.ADMIN)
    client = await viewers.subscribe(demoted, PRIVATE_FIELDS)
    await subscribers(server, events.POST_PUBLISHED, 1)

    await post_graphql(
        server,
        "mutation($id: ID!) { updateUserRole(id: $id, role: USER) { role } }",
        {"id": gid("User", demoted.id)},
        token_for(server, admin),
    )

    assert await client.closed_with() == 4403
