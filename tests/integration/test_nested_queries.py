"""No N+1: a nested query costs the same, exact number of SQL statements whatever the page
size (a level at a time: one statement per relation per level, nested first pages in one
windowed statement, counts grouped), and ``totalCount`` adds one COUNT only when selected.

Every measured request goes to a fresh app (a new container, so a cold cache): the counts
are those of the database work of one request, including the access-token lookup of an
authenticated caller. A nested connection paged with a cursor or ``last`` takes the
per-parent fallback, which must still answer correctly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from models.posts import Comment, Post
from models.user import Role, User
from resolvers.prefetch import Relations
from tests import factories
from tests.conftest import AppFactory, StatementCounter, graphql, requires_postgres

BASE = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

POSTS_NESTED = """
query($n: Int) {
  posts(first: $n) {
    edges { node {
      title
      author { name }
      commentCount
      comments(first: 5) { edges { node { body author { name } } } }
    } }
  }
}
"""


@dataclass
class Measured:
    statements: list[str]
    data: dict[str, Any]
    cost: dict[str, Any]

    @property
    def count(self) -> int:
        return len(self.statements)

    def touching(self, table: str) -> list[str]:
        return [sql for sql in self.statements if f'FROM "{table}"' in sql]


async def measure(
    client_factory: AppFactory,
    sql_statements: StatementCounter,
    query: str,
    variables: dict[str, Any] | None = None,
    viewer: User | None = None,
) -> Measured:
    """The statements of one request to a fresh app (cold cache), and its data."""
    client = client_factory(query_max_cost=5000, rate_limit_capacity=10000)
    headers = factories.bearer(client, viewer) if viewer is not None else None
    sql_statements.reset()
    response = await graphql(client, query, variables, headers)
    body = response.json()
    assert "errors" not in body, body["errors"]
    return Measured(list(sql_statements.statements), body["data"], body["extensions"]["cost"])


@dataclass
class Feed:
    authors: list[User]
    commenters: list[User]
    posts: list[Post]  # oldest first


@pytest.fixture
async def feed(db: None) -> Feed:
    """60 published posts by 10 authors, 7 comments each by 7 of 9 other users."""
    authors = await factories.create_users(10)
    commenters = await factories.create_users(9)
    posts = []
    for index in range(60):
        post = await factories.create_post(
            authors[index % 10], created_at=BASE + timedelta(minutes=index)
        )
        await factories.create_comments(
            post,
            [commenters[(index + k) % 9] for k in range(7)],
            start=BASE + timedelta(minutes=index, seconds=1),
        )
        posts.append(post)
    return Feed(authors, commenters, posts)


async def test_nested_posts_page_takes_five_statements_for_5_or_50_posts(
    client_factory: AppFactory, sql_statements: StatementCounter, feed: Feed
) -> None:
    small = await measure(client_factory, sql_statements, POSTS_NESTED, {"n": 5})
    large = await measure(client_factory, sql_statements, POSTS_NESTED, {"n": 50})

    # posts page, comments window, comment counts, post authors, comment authors
    assert small.count == 5, small.statements
    assert large.count == 5, large.statements
    assert len(large.touching("posts")) == 1
    assert len(large.touching("comments")) == 2
    assert len(large.touching("users")) == 2  # two levels: post authors, comment authors
    edges = large.data["posts"]["edges"]
    assert len(edges) == 50
    assert {edge["node"]["author"]["name"] for edge in edges} == {u.name for u in feed.authors}
    for edge in edges:
        node = edge["node"]
        assert node["commentCount"] == 7
        comments = node["comments"]["edges"]
        assert len(comments) == 5
        assert all(c["node"]["author"]["name"].startswith("User ") for c in comments)
        assert {c["node"]["author"]["name"] for c in comments} <= {u.name for u in feed.commenters}


def statement_texts(measured: Measured, table: str) -> list[str]:
    """The statements touching ``table`` without their parameters (Tortoise logs a
    statement with parameters as ``<sql>: [<values>]``)."""
    return [sql.rsplit(": [", 1)[0] for sql in measured.touching(table)]


@requires_postgres
async def test_nested_statements_read_the_same_whatever_the_parents(
    client_factory: AppFactory, sql_statements: StatementCounter, feed: Feed
) -> None:
    # Ids travel as one array parameter: one prepared statement for every page, where ids
    # written into the SQL made each distinct set of parents a new statement to parse.
    small = await measure(client_factory, sql_statements, POSTS_NESTED, {"n": 5})
    large = await measure(client_factory, sql_statements, POSTS_NESTED, {"n": 50})

    for table in ("comments", "users"):
        assert statement_texts(small, table) == statement_texts(large, table)
    assert all("= ANY($1::bigint[])" in sql for sql in statement_texts(large, "users"))
    assert any("CROSS JOIN LATERAL" in sql for sql in statement_texts(large, "comments"))
    assert small.touching("comments") != large.touching("comments")  # other parents' ids


async def test_nested_posts_page_returns_each_posts_own_first_comments(
    client_factory: AppFactory, sql_statements: StatementCounter, feed: Feed
) -> None:
    result = await measure(client_factory, sql_statements, POSTS_NESTED, {"n": 3})
    newest = list(reversed(feed.posts))[:3]
    for edge, post in zip(result.data["posts"]["edges"], newest, strict=True):
        expected = [
            c.body
            for c in await Comment.filter(post_id=post.id).order_by("created_at", "id").limit(5)
        ]
        assert edge["node"]["title"] == post.title
        assert [c["node"]["body"] for c in edge["node"]["comments"]["edges"]] == expected


USERS_NESTED = """
query($n: Int) {
  users(first: $n, orderBy: CREATED_AT, direction: ASC) {
    nodes { postCount posts(first: 3) { nodes { title commentCount } } }
  }
}
"""


async def test_users_with_posts_take_five_statements_at_any_size(
    client_factory: AppFactory, sql_statements: StatementCounter, feed: Feed
) -> None:
    admin = await factories.create_user(role=Role.ADMIN)
    small = await measure(client_factory, sql_statements, USERS_NESTED, {"n": 2}, admin)
    large = await measure(client_factory, sql_statements, USERS_NESTED, {"n": 10}, admin)

    # token's user, users page, posts window, published post counts, comment counts
    assert small.count == 5, small.statements
    assert large.count == 5, large.statements
    nodes = large.data["users"]["nodes"]  # the ten authors, oldest accounts first
    assert len(nodes) == 10
    for node in nodes:
        assert node["postCount"] == 6
        assert len(node["posts"]["nodes"]) == 3
        assert all(post["commentCount"] == 7 for post in node["posts"]["nodes"])


async def test_nested_total_counts_are_one_grouped_count_at_any_size(
    client_factory: AppFactory, sql_statements: StatementCounter, feed: Feed
) -> None:
    query = """
    query($n: Int) {
      users(first: $n) { nodes { posts(first: 1) { totalCount } orders(first: 1) { totalCount } } }
    }
    """
    admin = await factories.create_user(role=Role.ADMIN)
    small = await measure(client_factory, sql_statements, query, {"n": 3}, admin)
    large = await measure(client_factory, sql_statements, query, {"n": 20}, admin)

    # token's user, users page, posts window, orders window, posts COUNT, orders COUNT
    assert small.count == 6, small.statements
    assert large.count == 6, large.statements
    totals = sorted(node["posts"]["totalCount"] for node in large.data["users"]["nodes"])
    assert totals == [0] * 10 + [6] * 10


async def test_products_with_sellers_take_two_statements_at_any_size(
    client_factory: AppFactory, sql_statements: StatementCounter
) -> None:
    sellers = await factories.create_users(6)
    for index in range(30):
        await factories.create_product(sellers[index % 6])
    query = "query($n: Int) { products(first: $n) { nodes { name seller { name } } } }"

    small = await measure(client_factory, sql_statements, query, {"n": 2})
    large = await measure(client_factory, sql_statements, query, {"n": 25})

    assert small.count == 2, small.statements  # products page, sellers
    assert large.count == 2, large.statements
    nodes = large.data["products"]["nodes"]
    assert len(nodes) == 25
    assert {node["seller"]["name"] for node in nodes} == {seller.name for seller in sellers}


async def test_orders_with_items_products_and_sellers_take_six_statements(
    client_factory: AppFactory, sql_statements: StatementCounter
) -> None:
    admin = await factories.create_user(role=Role.ADMIN)
    sellers = await factories.create_users(3)
    buyers = await factories.create_users(5)
    products = [await factories.create_product(sellers[i % 3]) for i in range(9)]
    for index in range(20):
        lines = [(products[index % 9], 1), (products[(index + 4) % 9], 2)]
        await factories.create_order(buyers[index % 5], lines)
    query = """
    query($n: Int) {
      orders(first: $n) {
        nodes { buyer { name } items { quantity product { name seller { name } } } }
      }
    }
    """

    small = await measure(client_factory, sql_statements, query, {"n": 2}, admin)
    large = await measure(client_factory, sql_statements, query, {"n": 20}, admin)

    # token's user, orders page, buyers, order items, products, sellers
    assert small.count == 6, small.statements
    assert large.count == 6, large.statements
    nodes = large.data["orders"]["nodes"]
    assert len(nodes) == 20
    assert {node["buyer"]["name"] for node in nodes} == {buyer.name for buyer in buyers}
    for node in nodes:
        assert [item["quantity"] for item in node["items"]] == [1, 2]
        assert {item["product"]["seller"]["name"] for item in node["items"]} <= {
            seller.name for seller in sellers
        }


async def test_transfers_with_both_parties_take_three_statements(
    client_factory: AppFactory, sql_statements: StatementCounter
) -> None:
    me = await factories.create_user()
    others = await factories.create_users(8)
    for index in range(24):
        other = others[index % 8]
        sender, receiver = (me, other) if index % 2 else (other, me)
        await factories.create_transfer(sender, receiver, created_at=BASE + timedelta(hours=index))
    query = "query($n: Int) { transfers(first: $n) { nodes { from { name } to { name } } } }"

    small = await measure(client_factory, sql_statements, query, {"n": 2}, me)
    large = await measure(client_factory, sql_statements, query, {"n": 24}, me)

    # token's user, transfers page, both parties in one batch
    assert small.count == 3, small.statements
    assert large.count == 3, large.statements
    nodes = large.data["transfers"]["nodes"]
    assert len(nodes) == 24
    assert all(me.name in (node["from"]["name"], node["to"]["name"]) for node in nodes)
    parties = {node[side]["name"] for node in nodes for side in ("from", "to")}
    assert parties == {me.name} | {other.name for other in others}


POST_BY_ID = """
query($id: ID!, $n: Int) {
  post(id: $id) {
    title author { name } commentCount
    comments(first: $n) { nodes { body author { name } } }
  }
}
"""
NODE_BY_ID = """
query($id: ID!, $n: Int) {
  node(id: $id) {
    ... on Post {
      title author { name } commentCount
      comments(first: $n) { nodes { body author { name } } }
    }
  }
}
"""


@pytest.mark.parametrize(("query", "root"), [(POST_BY_ID, "post"), (NODE_BY_ID, "node")])
async def test_one_post_with_nested_fields_takes_five_statements(
    client_factory: AppFactory,
    sql_statements: StatementCounter,
    feed: Feed,
    query: str,
    root: str,
) -> None:
    post = feed.posts[10]
    variables = {"id": factories.gid("Post", post.id)}

    small = await measure(client_factory, sql_statements, query, {**variables, "n": 1})
    large = await measure(client_factory, sql_statements, query, {**variables, "n": 7})

    # the post, comments window, comment count, its author, comment authors
    assert small.count == 5, small.statements
    assert large.count == 5, large.statements
    found = large.data[root]
    assert found["title"] == post.title
    assert found["author"]["name"] == feed.authors[0].name
    assert found["commentCount"] == 7
    assert len(found["comments"]["nodes"]) == 7


async def test_total_count_adds_exactly_one_count_only_when_selected(
    client_factory: AppFactory, sql_statements: StatementCounter, feed: Feed
) -> None:
    without = "{ posts(first: 10) { nodes { title author { name } } } }"
    with_total = "{ posts(first: 10) { totalCount nodes { title author { name } } } }"

    plain = await measure(client_factory, sql_statements, without)
    counted = await measure(client_factory, sql_statements, with_total)

    assert plain.count == 2, plain.statements
    assert not any("COUNT(" in sql.upper() for sql in plain.statements)
    assert counted.count == plain.count + 1, counted.statements
    extra = [sql for sql in counted.statements if sql not in plain.statements]
    assert len(extra) == 1
    assert extra[0].upper().startswith("SELECT COUNT(")
    assert counted.data["posts"]["totalCount"] == 60


async def test_nested_comment_total_counts_share_one_grouped_count(
    client_factory: AppFactory, sql_statements: StatementCounter, feed: Feed
) -> None:
    query = "query($n: Int) { posts(first: $n) { nodes { comments(first: 2) { totalCount } } } }"

    small = await measure(client_factory, sql_statements, query, {"n": 2})
    large = await measure(client_factory, sql_statements, query, {"n": 40})

    assert small.count == 3, small.statements  # posts page, comments window, grouped COUNT
    assert large.count == 3, large.statements
    assert {node["comments"]["totalCount"] for node in large.data["posts"]["nodes"]} == {7}


COMMENTS_PAGE = """
query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  post(id: $id) {
    comments(first: $first, after: $after, last: $last, before: $before) {
      edges { cursor node { body author { name } } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}
"""


async def comment_bodies(post: Post) -> list[str]:
    return [c.body for c in await Comment.filter(post_id=post.id).order_by("created_at", "id")]


async def test_nested_comments_after_a_cursor_take_the_fallback_and_are_right(
    client_factory: AppFactory, sql_statements: StatementCounter, feed: Feed
) -> None:
    post = feed.posts[20]
    bodies = await comment_bodies(post)
    post_id = factories.gid("Post", post.id)
    first = await measure(
        client_factory, sql_statements, COMMENTS_PAGE, {"id": post_id, "first": 2}
    )
    end_cursor = first.data["post"]["comments"]["pageInfo"]["endCursor"]

    second = await measure(
        client_factory,
        sql_statements,
        COMMENTS_PAGE,
        {"id": post_id, "first": 2, "after": end_cursor},
    )

    comments = second.data["post"]["comments"]
    assert [edge["node"]["body"] for edge in comments["edges"]] == bodies[2:4]
    assert all(edge["node"]["author"]["name"] for edge in comments["edges"])
    assert comments["pageInfo"]["hasNextPage"] is True
    assert comments["pageInfo"]["hasPreviousPage"] is True
    assert comments["pageInfo"]["startCursor"] == comments["edges"][0]["cursor"]


async def test_nested_comments_before_a_cursor_come_back_in_order(
    client_factory: AppFactory, sql_statements: StatementCounter, feed: Feed
) -> None:
    post = feed.posts[20]
    bodies = await comment_bodies(post)
    post_id = factories.gid("Post", post.id)
    everything = await measure(
        client_factory, sql_statements, COMMENTS_PAGE, {"id": post_id, "first": 7}
    )
    fifth_cursor = everything.data["post"]["comments"]["edges"][4]["cursor"]

    page = await measure(
        client_factory,
        sql_statements,
        COMMENTS_PAGE,
        {"id": post_id, "last": 3, "before": fifth_cursor},
    )

    comments = page.data["post"]["comments"]
    assert [edge["node"]["body"] for edge in comments["edges"]] == bodies[1:4]
    assert comments["pageInfo"]["hasPreviousPage"] is True
    assert comments["pageInfo"]["hasNextPage"] is True


async def test_last_comments_of_every_post_in_a_list_take_the_per_post_fallback(
    client_factory: AppFactory, sql_statements: StatementCounter, feed: Feed
) -> None:
    query = """
    { posts(first: 4) { nodes { title comments(last: 2) { nodes { body } } } } }
    """

    result = await measure(client_factory, sql_statements, query)

    newest = list(reversed(feed.posts))[:4]
    for node, post in zip(result.data["posts"]["nodes"], newest, strict=True):
        assert node["title"] == post.title
        assert [c["body"] for c in node["comments"]["nodes"]] == (await comment_bodies(post))[-2:]


# --- one object under selections with other arguments ---------------------------------------
# The loaders share model instances (a post's author is one User object wherever it appears),
# so values prefetched for one selection must never answer another selection of that object.

ALIASED_COMMENT_PAGES = """
{ posts(first: 3) {
  a: nodes { comments(first: 1) { nodes { body } } }
  b: nodes { comments(first: 3) { nodes { body } } }
} }
"""
AUTHORS_POSTS_UNDER_TWO_ALIASES = """
{ posts(first: 3) {
  a: nodes { author { posts(first: 1) { nodes { title } } } }
  b: nodes { author { posts(first: 3) { nodes { title } } } }
} }
"""
AUTHORS_POSTS_AT_TWO_DEPTHS = """
{ posts(first: 3) { nodes { author {
  posts(first: 1) { nodes { author { posts(first: 3) { nodes { title } } } } }
} } } }
"""
AUTHORS_POSTS_THROUGH_TWO_FRAGMENTS = """
{ posts(first: 3) { a: nodes { author { ...OnePost } } b: nodes { author { ...ThreePosts } } } }
fragment OnePost on User { posts(first: 1) { nodes { title } } }
fragment ThreePosts on User { posts(first: 3) { nodes { title } } }
"""
ONE_KEY_FOR_TWO_FIELDS = """
{ posts(first: 3) { a: nodes { x: author { name } } b: nodes { x: commentCount } } }
"""


def unprefetched(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every relation field runs its own resolver (the per-request DataLoaders): the
    schema's relations are found for no model, so ``prefetch`` loads nothing."""
    monkeypatch.setattr(Relations, "of", lambda self, model: {})


@pytest.mark.parametrize(
    "query",
    [
        ALIASED_COMMENT_PAGES,
        AUTHORS_POSTS_UNDER_TWO_ALIASES,
        AUTHORS_POSTS_AT_TWO_DEPTHS,
        AUTHORS_POSTS_THROUGH_TWO_FRAGMENTS,
        ONE_KEY_FOR_TWO_FIELDS,
    ],
    ids=["aliases", "shared-authors", "depths", "fragments", "one-key-two-fields"],
)
async def test_prefetched_selections_answer_what_the_resolvers_answer(
    client_factory: AppFactory,
    sql_statements: StatementCounter,
    feed: Feed,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
) -> None:
    prefetched = await measure(client_factory, sql_statements, query)
    unprefetched(monkeypatch)
    resolved = await measure(client_factory, sql_statements, query)

    assert prefetched.data == resolved.data


async def test_aliased_nodes_get_the_comment_page_of_their_own_arguments(
    client_factory: AppFactory, sql_statements: StatementCounter, feed: Feed
) -> None:
    result = await measure(client_factory, sql_statements, ALIASED_COMMENT_PAGES)

    posts = result.data["posts"]
    assert [len(node["comments"]["nodes"]) for node in posts["a"]] == [1, 1, 1]
    assert [len(node["comments"]["nodes"]) for node in posts["b"]] == [3, 3, 3]
    assert result.count == 3, result.statements  # posts page, one window per alias
    assert result.cost["actualQueryCost"] <= result.cost["requestedQueryCost"]


async def test_one_author_under_two_aliases_gets_the_posts_page_of_each(
    client_factory: AppFactory, sql_statements: StatementCounter, feed: Feed
) -> None:
    result = await measure(client_factory, sql_statements, AUTHORS_POSTS_UNDER_TWO_ALIASES)

    posts = result.data["posts"]
    assert [len(node["author"]["posts"]["nodes"]) for node in posts["a"]] == [1, 1, 1]
    assert [len(node["author"]["posts"]["nodes"]) for node in posts["b"]] == [3, 3, 3]
    assert result.count == 4, result.statements  # posts page, authors, one window per alias


async def test_one_author_at_two_depths_gets_the_posts_page_of_each(
    client_factory: AppFactory, sql_statements: StatementCounter, feed: Feed
) -> None:
    result = await measure(client_factory, sql_statements, AUTHORS_POSTS_AT_TWO_DEPTHS)

    for node in result.data["posts"]["nodes"]:
        outer = node["author"]["posts"]["nodes"]
        assert len(outer) == 1
        assert len(outer[0]["author"]["posts"]["nodes"]) == 3
    # posts page, authors, their newest posts, (the same authors, loaded), their three newest
    assert result.count == 4, result.statements


async def test_one_viewer_under_two_root_aliases_gets_the_posts_page_of_each(
    client_factory: AppFactory, sql_statements: StatementCounter, feed: Feed
) -> None:
    query = """
    { a: me { posts(first: 1) { nodes { comments(first: 2) { nodes { body } } } } }
      b: me { posts(first: 3) { nodes { title } } } }
    """

    result = await measure(client_factory, sql_statements, query, viewer=feed.authors[0])

    assert len(result.data["a"]["posts"]["nodes"]) == 1
    assert len(result.data["b"]["posts"]["nodes"]) == 3
    # the token's user, a posts window per alias, the comments window
    assert result.count == 4, result.statements


async def test_a_relation_left_out_by_include_is_not_loaded_and_the_rest_stays_prefetched(
    client_factory: AppFactory, sql_statements: StatementCounter, feed: Feed
) -> None:
    query = """
    query($n: Int, $more: Boolean!) { posts(first: $n) { nodes {
      comments(first: 2) { nodes { body } }
      comments(first: 2) @include(if: $more) { totalCount }
      author @include(if: $more) { name }
    } } }
    """

    small = await measure(client_factory, sql_statements, query, {"n": 2, "more": False})
    large = await measure(client_factory, sql_statements, query, {"n": 20, "more": False})

    assert small.count == 2, small.statements  # posts page, comments window
    assert large.count == 2, large.statements
    assert all(len(node["comments"]["nodes"]) == 2 for node in large.data["posts"]["nodes"])
