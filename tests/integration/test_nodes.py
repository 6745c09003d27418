"""``nodes(ids:)`` (Relay): objects in the order asked, null where `node(id:)` answers null
(missing, or not visible to the caller), one statement per type whatever the number of ids,
and at most NODES_MAX_IDS ids."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from models.posts import PostStatus
from models.user import Role, User
from tests import factories
from tests.conftest import AppFactory, StatementCounter, call, data_of, error_of
from tests.factories import gid

NODES = """
query($ids: [ID!]!) {
  nodes(ids: $ids) {
    __typename id
    ... on Post { title }
    ... on User { name }
  }
}
"""
NODE = """
query($id: ID!) {
  node(id: $id) { __typename id }
}
"""
NODES_IDS_ONLY = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"


async def nodes(
    client: httpx.AsyncClient, ids: list[str], viewer: User | None = None, query: str = NODES
) -> list[Any]:
    return data_of(await call(client, viewer, query, {"ids": ids}))["nodes"]  # type: ignore[no-any-return]


# --- order and nulls ----------------------------------------------------------------------


async def test_nodes_come_back_in_the_order_asked_across_types(
    client: httpx.AsyncClient,
) -> None:
    ada = await factories.create_user(name="Ada")
    first = await factories.create_post(ada, title="First")
    second = await factories.create_post(ada, title="Second")
    ids = [gid("Post", second.id), gid("User", ada.id), gid("Post", first.id)]
    assert await nodes(client, ids) == [
        {"__typename": "Post", "id": ids[0], "title": "Second"},
        {"__typename": "User", "id": ids[1], "name": "Ada"},
        {"__typename": "Post", "id": ids[2], "title": "First"},
    ]


async def test_an_id_that_does_not_exist_is_null_in_its_place(client: httpx.AsyncClient) -> None:
    ada = await factories.create_user()
    post = await factories.create_post(ada)
    ids = [gid("Post", 999_999), gid("Post", post.id), gid("Nothing", 1)]
    answered = await nodes(client, ids, query=NODES_IDS_ONLY)
    assert answered == [None, {"__typename": "Post", "id": ids[1]}, None]


async def test_an_id_asked_twice_answers_twice(client: httpx.AsyncClient) -> None:
    ada = await factories.create_user()
    post = await factories.create_post(ada)
    post_id = gid("Post", post.id)
    answered = await nodes(client, [post_id, post_id], query=NODES_IDS_ONLY)
    assert answered == [{"__typename": "Post", "id": post_id}] * 2


async def test_no_ids_answer_an_empty_list(client: httpx.AsyncClient) -> None:
    assert await nodes(client, []) == []


async def test_a_malformed_id_is_bad_user_input_as_for_node(client: httpx.AsyncClient) -> None:
    body = await call(client, None, NODES, {"ids": ["not an id"]})
    assert error_of(body)["extensions"]["code"] == "BAD_USER_INPUT"
    node_body = await call(client, None, NODE, {"id": "not an id"})
    assert error_of(node_body)["extensions"]["code"] == "BAD_USER_INPUT"


# --- permissions --------------------------------------------------------------------------


async def test_a_draft_is_null_for_others_and_visible_to_its_author(
    client: httpx.AsyncClient,
) -> None:
    author = await factories.create_user()
    stranger = await factories.create_user()
    draft = await factories.create_post(author, status=PostStatus.DRAFT)
    public = await factories.create_post(author)
    ids = [gid("Post", draft.id), gid("Post", public.id)]
    assert await nodes(client, ids, None, NODES_IDS_ONLY) == [
        None,
        {"__typename": "Post", "id": ids[1]},
    ]
    assert await nodes(client, ids, stranger, NODES_IDS_ONLY) == [
        None,
        {"__typename": "Post", "id": ids[1]},
    ]
    assert await nodes(client, ids, author, NODES_IDS_ONLY) == [
        {"__typename": "Post", "id": ids[0]},
        {"__typename": "Post", "id": ids[1]},
    ]


async def test_each_id_answers_what_node_answers_for_every_kind_of_viewer(
    client: httpx.AsyncClient,
) -> None:
    buyer = await factories.create_user()
    other = await factories.create_user()
    manager = await factories.create_user(role=Role.ADMIN)
    seller = await factories.create_user()
    product = await factories.create_product(seller)
    order = await factories.create_order(buyer, [(product, 1)])
    transfer = await factories.create_transfer(buyer, other)
    draft = await factories.create_post(other, status=PostStatus.DRAFT)
    comment = await factories.create_comment(draft, buyer)
    deleted = await factories.create_user()
    await User.filter(id=deleted.id).update(deleted_at=draft.created_at)
    ids = [
        gid("Order", order.id),
        gid("Transfer", transfer.id),
        gid("Post", draft.id),
        gid("Comment", comment.id),
        gid("Product", product.id),
        gid("User", deleted.id),
        gid("User", buyer.id),
    ]
    for viewer in (None, buyer, other, manager):
        one_by_one = [
            data_of(await call(client, viewer, NODE, {"id": node_id}))["node"] for node_id in ids
        ]
        assert await nodes(client, ids, viewer, NODES_IDS_ONLY) == one_by_one
    # The rules themselves: anonymous sees only the product and the live user.
    answered = await nodes(client, ids, None, NODES_IDS_ONLY)
    assert [node is not None for node in answered] == [
        False,
        False,
        False,
        False,
        True,
        False,
        True,
    ]


async def test_a_notification_is_visible_to_its_owner_only(client: httpx.AsyncClient) -> None:
    from models.notifications import Notification, NotificationKind

    owner = await factories.create_user()
    other = await factories.create_user()
    notification = await Notification.create(
        user=owner, kind=NotificationKind.SYSTEM, title="t", body="b"
    )
    ids = [gid("Notification", notification.id)]
    assert await nodes(client, ids, owner, NODES_IDS_ONLY) == [
        {"__typename": "Notification", "id": ids[0]}
    ]
    assert await nodes(client, ids, other, NODES_IDS_ONLY) == [None]
    assert await nodes(client, ids, None, NODES_IDS_ONLY) == [None]


# --- batching -----------------------------------------------------------------------------

NESTED = """
query($ids: [ID!]!) {
  nodes(ids: $ids) {
    id
    ... on Post { title author { name } commentCount }
    ... on Comment { body author { name } }
    ... on User { name }
  }
}
"""


async def statements_for(
    client_factory: AppFactory, sql_statements: StatementCounter, ids: list[str]
) -> list[str]:
    client = client_factory()  # a fresh app: a cold cache
    sql_statements.reset()
    body = await call(client, None, NESTED, {"ids": ids})
    answered = data_of(body)["nodes"]
    assert all(node is not None for node in answered)
    return list(sql_statements.statements)


@pytest.mark.parametrize("per_type", [2, 8])
async def test_nodes_take_one_statement_per_type_and_relation_whatever_their_number(
    client_factory: AppFactory, sql_statements: StatementCounter, per_type: int
) -> None:
    authors = await factories.create_users(per_type)
    posts = [await factories.create_post(author) for author in authors]
    comments = [await factories.create_comment(post, authors[0]) for post in posts]
    ids = [
        *(gid("Post", post.id) for post in posts),
        *(gid("Comment", comment.id) for comment in comments),
        *(gid("User", author.id) for author in authors),
    ]
    statements = await statements_for(client_factory, sql_statements, ids)
    # Comments; posts (the post nodes and the comments' posts in one batch); users (the
    # user nodes, which already hold every author the level below asks for); comment counts.
    assert len(statements) == 4, statements
    assert sum('FROM "posts"' in sql for sql in statements) == 1
    assert sum('FROM "users"' in sql for sql in statements) == 1
    assert sum('FROM "comments"' in sql for sql in statements) == 2  # rows, then counts


@pytest.mark.parametrize("count", [2, 8])
async def test_the_relations_of_node_posts_load_a_level_at_a_time(
    client_factory: AppFactory, sql_statements: StatementCounter, count: int
) -> None:
    authors = await factories.create_users(count)
    posts = [await factories.create_post(author) for author in authors]
    statements = await statements_for(
        client_factory, sql_statements, [gid("Post", post.id) for post in posts]
    )
    # The posts, their authors, their comment counts.
    assert len(statements) == 3, statements


# --- bound and cost -----------------------------------------------------------------------


async def test_more_ids_than_the_bound_is_bad_user_input(client_factory: AppFactory) -> None:
    client = client_factory(nodes_max_ids=3)
    ids = [gid("Post", pk) for pk in range(1, 5)]
    error = error_of(await call(client, None, NODES_IDS_ONLY, {"ids": ids}))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["argument"] == "ids"
    assert error["message"] == "`ids` lists 4 IDs; at most 3 per call"
    assert await nodes(client, ids[:3], query=NODES_IDS_ONLY) == [None] * 3


async def test_the_default_bound_is_one_hundred(client: httpx.AsyncClient) -> None:
    ids = [gid("Post", pk) for pk in range(1, 102)]
    error = error_of(await call(client, None, NODES_IDS_ONLY, {"ids": ids}))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert await nodes(client, ids[:100], query=NODES_IDS_ONLY) == [None] * 100


async def test_nodes_are_priced_at_their_declared_list_size(client: httpx.AsyncClient) -> None:
    ada = await factories.create_user()
    post = await factories.create_post(ada)
    body = await call(client, None, NODES_IDS_ONLY, {"ids": [gid("Post", post.id)]})
    # @listSize(assumedSize: 100) x 1 per object; only what came back is kept.
    assert body["extensions"]["cost"]["requestedQueryCost"] == 100
    assert body["extensions"]["cost"]["actualQueryCost"] == 1
