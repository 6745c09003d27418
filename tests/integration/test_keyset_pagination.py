"""Keyset pagination through the API: forward (first/after) and backward (last/before) over
posts and products whose sort keys tie, without duplicates or gaps; rows inserted between
two fetches neither shift nor repeat the pages still to come; pageInfo is right at both
ends; a malformed cursor, or a page size above 100, is BAD_USER_INPUT (the size is refused
by the cost analysis, before anything executes)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest

from models.catalogue import Product
from models.posts import Post, PostStatus
from models.user import User
from tests import factories
from tests.conftest import StatementCounter, graphql

T0 = datetime(2024, 2, 1, 9, 0, tzinfo=UTC)

PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
POSTS = f"""
query($first: Int, $after: String, $last: Int, $before: String) {{
  posts(first: $first, after: $after, last: $last, before: $before) {{
    edges {{ cursor node {{ title }} }}
    {PAGE_INFO}
  }}
}}
"""
PRODUCTS = f"""
query($first: Int, $after: String, $last: Int, $before: String,
      $orderBy: ProductOrderField, $direction: OrderDirection) {{
  products(first: $first, after: $after, last: $last, before: $before,
           orderBy: $orderBy, direction: $direction) {{
    edges {{ cursor node {{ name }} }}
    {PAGE_INFO}
  }}
}}
"""


async def fetch(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = (await graphql(client, query, variables)).json()
    assert "errors" not in body, body["errors"]
    connection: dict[str, Any] = next(iter(body["data"].values()))
    return connection


def labels(page: dict[str, Any]) -> list[str]:
    return [next(iter(edge["node"].values())) for edge in page["edges"]]


def check_cursors(page: dict[str, Any]) -> None:
    info = page["pageInfo"]
    if page["edges"]:
        assert info["startCursor"] == page["edges"][0]["cursor"]
        assert info["endCursor"] == page["edges"][-1]["cursor"]
    else:
        assert info["startCursor"] is None
        assert info["endCursor"] is None


async def walk_forward(
    client: httpx.AsyncClient, query: str, size: int, extra: dict[str, Any] | None = None
) -> list[str]:
    """Every item, page by page with first/after, checking pageInfo on the way."""
    seen: list[str] = []
    after = None
    while True:
        page = await fetch(client, query, {"first": size, "after": after, **(extra or {})})
        check_cursors(page)
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        assert len(page["edges"]) <= size
        seen += labels(page)
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        assert len(page["edges"]) == size
        after = page["pageInfo"]["endCursor"]


async def walk_backward(
    client: httpx.AsyncClient, query: str, size: int, extra: dict[str, Any] | None = None
) -> list[str]:
    """Every item, page by page with last/before from the end, checking pageInfo."""
    seen: list[str] = []
    before = None
    while True:
        page = await fetch(client, query, {"last": size, "before": before, **(extra or {})})
        check_cursors(page)
        assert page["pageInfo"]["hasNextPage"] is (before is not None)
        assert len(page["edges"]) <= size
        seen = labels(page) + seen
        if not page["pageInfo"]["hasPreviousPage"]:
            return seen
        assert len(page["edges"]) == size
        before = page["pageInfo"]["startCursor"]


@pytest.fixture
async def author(db: None) -> User:
    return await factories.create_user()


@pytest.fixture
async def tied_posts(author: User) -> list[str]:
    """13 published posts, most of them sharing a creation time; a draft in the middle.
    Returns the titles in the list's order (newest first, then the highest id)."""
    times = [T0] * 5 + [T0 + timedelta(hours=1)] * 6 + [T0 - timedelta(hours=1)] * 2
    for index, created_at in enumerate(times):
        await factories.create_post(author, title=f"P{index:02}", created_at=created_at)
    await factories.create_post(author, title="Draft", status=PostStatus.DRAFT, created_at=T0)
    return await expected_posts()


async def expected_posts() -> list[str]:
    query = Post.filter(status=PostStatus.PUBLISHED).order_by("-created_at", "-id")
    return [str(title) for title in await query.values_list("title", flat=True)]


@pytest.mark.parametrize("size", [1, 4, 13])
async def test_posts_forward_with_ties_has_no_duplicates_or_gaps(
    client: httpx.AsyncClient, tied_posts: list[str], size: int
) -> None:
    assert await walk_forward(client, POSTS, size) == tied_posts


@pytest.mark.parametrize("size", [1, 4, 13])
async def test_posts_backward_with_ties_has_no_duplicates_or_gaps(
    client: httpx.AsyncClient, tied_posts: list[str], size: int
) -> None:
    assert await walk_backward(client, POSTS, size) == tied_posts


async def test_forward_and_backward_pages_meet_at_the_same_cursor(
    client: httpx.AsyncClient, tied_posts: list[str]
) -> None:
    first = await fetch(client, POSTS, {"first": 6})
    rest = await fetch(client, POSTS, {"first": 20, "after": first["pageInfo"]["endCursor"]})
    back = await fetch(client, POSTS, {"last": 6, "before": rest["pageInfo"]["startCursor"]})
    assert labels(back) == labels(first) == tied_posts[:6]
    assert back["pageInfo"] == {**first["pageInfo"], "hasNextPage": True}
    assert labels(rest) == tied_posts[6:]


async def test_page_info_at_both_ends_and_past_the_end(
    client: httpx.AsyncClient, tied_posts: list[str]
) -> None:
    head = await fetch(client, POSTS, {"first": 3})
    assert head["pageInfo"]["hasNextPage"] is True
    assert head["pageInfo"]["hasPreviousPage"] is False
    tail = await fetch(client, POSTS, {"last": 3})
    assert labels(tail) == tied_posts[-3:]
    assert tail["pageInfo"]["hasPreviousPage"] is True
    assert tail["pageInfo"]["hasNextPage"] is False
    everything = await fetch(client, POSTS, {"first": 13})
    assert everything["pageInfo"]["hasNextPage"] is False
    past = await fetch(client, POSTS, {"first": 3, "after": tail["pageInfo"]["endCursor"]})
    assert past["edges"] == []
    check_cursors(past)
    assert past["pageInfo"]["hasNextPage"] is False
    assert past["pageInfo"]["hasPreviousPage"] is True
    before_start = await fetch(
        client, POSTS, {"last": 3, "before": head["pageInfo"]["startCursor"]}
    )
    assert before_start["edges"] == []
    assert before_start["pageInfo"]["hasPreviousPage"] is False
    assert before_start["pageInfo"]["hasNextPage"] is True


async def test_posts_inserted_between_fetches_do_not_shift_the_next_pages(
    client: httpx.AsyncClient, author: User, tied_posts: list[str]
) -> None:
    page = await fetch(client, POSTS, {"first": 4})
    assert labels(page) == tied_posts[:4]
    cursor_row = await Post.get(title=tied_posts[3])
    # Ahead of the cursor: newer, and tied with it on created_at (a higher id sorts first).
    await factories.create_post(author, title="Newest", created_at=T0 + timedelta(days=1))
    await factories.create_post(author, title="Tied", created_at=cursor_row.created_at)
    # Behind everything: it belongs at the end of the remaining pages, once.
    await factories.create_post(author, title="Oldest", created_at=T0 - timedelta(days=1))

    rest: list[str] = []
    after = page["pageInfo"]["endCursor"]
    while after is not None:
        page = await fetch(client, POSTS, {"first": 4, "after": after})
        rest += labels(page)
        after = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None

    assert rest == [*tied_posts[4:], "Oldest"]


# --- products: ties on price and on created_at ---------------------------------------------


@pytest.fixture
async def tied_products(author: User) -> None:
    """11 active products: prices with many ties, and all created at the same instant."""
    prices = [500, 500, 1000, 500, 250, 1000, 500, 750, 250, 500, 1000]
    for index, cents in enumerate(prices):
        await factories.create_product(
            author, name=f"Item {index:02}", price_cents=cents, created_at=T0
        )


async def expected_products(field: str, direction: str) -> list[str]:
    prefix = "-" if direction == "DESC" else ""
    query = Product.all().order_by(f"{prefix}{field}", f"{prefix}id")
    return [str(name) for name in await query.values_list("name", flat=True)]


ORDERINGS = [
    ("PRICE", "price_cents", "ASC"),
    ("PRICE", "price_cents", "DESC"),
    ("CREATED_AT", "created_at", "ASC"),
    ("CREATED_AT", "created_at", "DESC"),
    ("NAME", "name", "DESC"),
]


@pytest.mark.parametrize(("order_by", "field", "direction"), ORDERINGS)
async def test_products_forward_with_tied_keys_have_no_duplicates_or_gaps(
    client: httpx.AsyncClient,
    tied_products: None,
    order_by: str,
    field: str,
    direction: str,
) -> None:
    extra = {"orderBy": order_by, "direction": direction}
    assert await walk_forward(client, PRODUCTS, 3, extra) == await expected_products(
        field, direction
    )


@pytest.mark.parametrize(("order_by", "field", "direction"), ORDERINGS)
async def test_products_backward_with_tied_keys_have_no_duplicates_or_gaps(
    client: httpx.AsyncClient,
    tied_products: None,
    order_by: str,
    field: str,
    direction: str,
) -> None:
    extra = {"orderBy": order_by, "direction": direction}
    assert await walk_backward(client, PRODUCTS, 3, extra) == await expected_products(
        field, direction
    )


async def test_products_inserted_between_fetches_do_not_repeat_or_shift(
    client: httpx.AsyncClient, author: User, tied_products: None
) -> None:
    extra = {"orderBy": "PRICE", "direction": "ASC"}
    page = await fetch(client, PRODUCTS, {"first": 4, **extra})
    assert labels(page) == ["Item 04", "Item 08", "Item 00", "Item 01"]  # cursor: (5.00, 01)
    # Cheaper than the cursor: ahead of it, so never shown by the next pages.
    await factories.create_product(author, name="Bargain", price_cents=100, created_at=T0)
    await factories.create_product(author, name="Cheap", price_cents=250, created_at=T0)
    # The cursor's price with a higher id, and the dearest: behind it, each shown once.
    await factories.create_product(author, name="Tied", price_cents=500, created_at=T0)
    await factories.create_product(author, name="Dear", price_cents=9900, created_at=T0)

    rest: list[str] = []
    after = page["pageInfo"]["endCursor"]
    while after is not None:
        page = await fetch(client, PRODUCTS, {"first": 4, "after": after, **extra})
        rest += labels(page)
        after = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None

    assert rest == [
        *["Item 03", "Item 06", "Item 09", "Tied"],  # 5.00
        "Item 07",  # 7.50
        *["Item 02", "Item 05", "Item 10"],  # 10.00
        "Dear",
    ]


# --- bad input ------------------------------------------------------------------------------


def raw_cursor(payload: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


MALFORMED = {
    "not-base64": "not a cursor!",
    "not-json": base64.urlsafe_b64encode(b"hello world").decode(),
    "json-object": raw_cursor({"kind": "v"}),
    "short": raw_cursor(["v", 1]),
    "unknown-kind": raw_cursor(["x", 1, 1]),
    "list-value": raw_cursor(["v", [1], 1]),
    "bad-date": raw_cursor(["d", "yesterday", 1]),
    "text-pk": raw_cursor(["d", "2024-01-01T00:00:00+00:00", "1"]),
    "bool-pk": raw_cursor(["d", "2024-01-01T00:00:00+00:00", True]),
    "pk-beyond-bigint": raw_cursor(["d", "2024-01-01T00:00:00+00:00", 2**64 - 1]),
    # Well-formed, but not a cursor of this ordering (created_at): never a database error.
    "text-for-a-date": raw_cursor(["v", "Teapot", 1]),
    "number-for-a-date": raw_cursor(["v", 5, 1]),
    "naive-date": raw_cursor(["d", "2024-01-01T00:00:00", 1]),
}


def error_code(body: dict[str, Any]) -> str:
    assert len(body.get("errors") or []) == 1, body
    return body["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("size", "argument"), [("first", "after"), ("last", "before")])
@pytest.mark.parametrize("query", [POSTS, PRODUCTS], ids=["posts", "products"])
async def test_malformed_cursor_is_bad_user_input(
    client: httpx.AsyncClient, author: User, query: str, size: str, argument: str
) -> None:
    await factories.create_post(author)
    await factories.create_product(author)
    for name, cursor in MALFORMED.items():
        body = (await graphql(client, query, {size: 2, argument: cursor})).json()
        assert body.get("data") is None, name
        assert error_code(body) == "BAD_USER_INPUT", name


async def test_a_cursor_of_another_ordering_is_bad_user_input(
    client: httpx.AsyncClient, tied_products: None
) -> None:
    by_name = await fetch(client, PRODUCTS, {"first": 2, "orderBy": "NAME"})
    for order_by in ("PRICE", "CREATED_AT"):
        variables = {"first": 2, "after": by_name["pageInfo"]["endCursor"], "orderBy": order_by}
        body = (await graphql(client, PRODUCTS, variables)).json()
        assert error_code(body) == "BAD_USER_INPUT"


async def test_mixing_directions_is_bad_user_input(
    client: httpx.AsyncClient, tied_posts: list[str]
) -> None:
    """``first`` with ``before`` (or ``last`` with ``after``) would drop an argument."""
    cursor = (await fetch(client, POSTS, {"first": 5}))["pageInfo"]["endCursor"]
    for variables in ({"first": 2, "before": cursor}, {"last": 2, "after": cursor}):
        body = (await graphql(client, POSTS, variables)).json()
        assert error_code(body) == "BAD_USER_INPUT", variables


@pytest.mark.parametrize(
    "query",
    [
        "{ posts(first: 101) { nodes { title } } }",
        "{ posts(last: 101) { nodes { title } } }",
        "{ products(first: 101) { nodes { name } } }",
        "{ posts(first: -1) { nodes { title } } }",
        "{ posts(first: 1) { nodes { comments(first: 101) { nodes { body } } } } }",
    ],
    ids=["posts-first", "posts-last", "products-first", "negative", "nested"],
)
async def test_page_size_over_100_is_refused_before_execution(
    client: httpx.AsyncClient,
    author: User,
    sql_statements: StatementCounter,
    query: str,
) -> None:
    await factories.create_post(author)
    sql_statements.reset()
    response = await graphql(client, query)
    body = response.json()
    assert error_code(body) == "BAD_USER_INPUT"
    assert response.status_code == 400
    assert "data" not in body  # refused before execution began
    assert sql_statements.count == 0


async def test_page_size_in_a_variable_is_checked_too(
    client: httpx.AsyncClient, sql_statements: StatementCounter, db: None
) -> None:
    sql_statements.reset()
    response = await graphql(client, POSTS, {"first": 101})
    assert error_code(response.json()) == "BAD_USER_INPUT"
    assert "data" not in response.json()
    assert sql_statements.count == 0


async def test_page_sizes_0_and_100_are_allowed(
    client: httpx.AsyncClient, tied_posts: list[str]
) -> None:
    empty = await fetch(client, POSTS, {"first": 0})
    assert empty["edges"] == []
    assert empty["pageInfo"]["hasNextPage"] is True
    full = await fetch(client, POSTS, {"first": 100})
    assert labels(full) == tied_posts
