"""Compiled plans (schema/compiled_plan.py) against graphql-core's own executor, on the real
schema and data: the same ``data`` and the same ``errors`` (messages, paths, codes, order).

Besides these tests, every query of the suite is checked the same way while it runs
(``schema/plan_checks.py``, turned on in tests/conftest.py). Here one app answers each
document twice, switching its schema's executor: ``CompiledExecutionContext`` (what
``LIBRARY_SHORTCUTS=true`` runs) and ``StockExecutionContext`` (graphql-core's methods).
The corpus is the nested, relation and connection documents of test_nested_queries.py plus
the error cases (a resolver raising inside a list, a permission refused beside a planned
field, a selection with resolvers that has no plan); the property test sends
hypothesis-graphql's generated queries (a fifth of ``FUZZ_EXAMPLES``, as in
tests/integration/test_fuzz.py).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import httpx
import pytest
from hypothesis import given
from starlette.routing import Route

from models.posts import Post
from schema import AgoraSchema
from schema.execution import CompiledExecutionContext, StockExecutionContext
from schema.plan_cache import plan_cache
from schema.plan_checks import PLAN_CHECKS
from services.global_ids import global_id
from tests.fuzz_world import ADMIN_ID, USER_ID
from tests.integration.test_fuzz import (
    FUZZ_EXAMPLES,
    QUERIES,
    VIEWERS,
    fuzz,
    fuzz_client,
    viewer_headers,
)
from tests.integration.test_nested_queries import (
    ALIASED_COMMENT_PAGES,
    AUTHORS_POSTS_AT_TWO_DEPTHS,
    AUTHORS_POSTS_THROUGH_TWO_FRAGMENTS,
    AUTHORS_POSTS_UNDER_TWO_ALIASES,
    COMMENTS_PAGE,
    NODE_BY_ID,
    ONE_KEY_FOR_TWO_FIELDS,
    POST_BY_ID,
    POSTS_NESTED,
    USERS_NESTED,
)

__all__ = ["fuzz_client"]  # the fixture, shared with test_fuzz.py

# test_fuzz.py's generated queries already run through the plans' checks; a fifth of its
# examples here, each answered three times, keeps `make test` short.
PLAN_FUZZ_EXAMPLES = max(1, FUZZ_EXAMPLES // 5)

FEED_WITH_EVERYTHING_PLANNED = """
{ posts(first: 5) { edges { node { __typename title status tags publishedAt
  author { name } commentCount
  comments(first: 2) { nodes { body createdAt author { name postCount } } } } } } }
"""

CORPUS = [
    pytest.param(POSTS_NESTED, {"n": 5}, None, id="feed"),
    pytest.param(FEED_WITH_EVERYTHING_PLANNED, None, None, id="feed-leaves-of-every-kind"),
    pytest.param(USERS_NESTED, {"n": 3}, ADMIN_ID, id="users-with-posts"),
    pytest.param(POST_BY_ID, {"n": 3}, None, id="post-by-id"),
    pytest.param(NODE_BY_ID, {"n": 3}, None, id="node-interface"),
    pytest.param(COMMENTS_PAGE, {"first": 2}, None, id="cursors-and-page-info"),
    pytest.param(ALIASED_COMMENT_PAGES, None, None, id="aliased-comment-pages"),
    pytest.param(AUTHORS_POSTS_UNDER_TWO_ALIASES, None, None, id="two-aliases"),
    pytest.param(AUTHORS_POSTS_AT_TWO_DEPTHS, None, None, id="two-depths"),
    pytest.param(AUTHORS_POSTS_THROUGH_TWO_FRAGMENTS, None, None, id="two-fragments"),
    pytest.param(ONE_KEY_FOR_TWO_FIELDS, None, None, id="one-key-two-fields"),
    pytest.param(
        "{ posts(first: 3) { totalCount nodes { title author { name } } } }",
        None,
        None,
        id="total-count",
    ),
    pytest.param(
        "query($s: Boolean!) { posts(first: 3) { nodes { title author @skip(if: $s) { name } } } }",
        {"s": True},
        None,
        id="skip-true",
    ),
    pytest.param(
        "query($s: Boolean!) { posts(first: 3) { nodes { title author @skip(if: $s) { name } } } }",
        {"s": False},
        None,
        id="skip-false",
    ),
    pytest.param(
        "{ me { name email balance posts(first: 2) { nodes { title status } } } }",
        None,
        USER_ID,
        id="me",
    ),
    pytest.param(
        "{ orders(first: 3) { nodes { status total buyer { name } "
        "items { quantity unitPrice product { name seller { name } } } } } }",
        None,
        USER_ID,
        id="orders-with-items",
    ),
    pytest.param(
        "{ products(first: 3) { nodes { name price stock seller { name } } } }",
        None,
        None,
        id="products",
    ),
    # errors: a resolver raising inside a list, a permission refused beside a planned field
    pytest.param(
        '{ posts(first: 3) { nodes { title comments(first: 2, after: "nope") '
        "{ nodes { body } } } } }",
        None,
        None,
        id="error-inside-a-list",
    ),
    pytest.param(
        "query($id: ID!) { a: posts(first: 2) { nodes { title author { name } } } "
        'post(id: $id) { title comments(first: 1, after: "nope") { nodes { body } } } }',
        None,
        None,
        id="error-in-a-nullable-field-beside-a-plan",
    ),
    pytest.param(
        "{ posts(first: 2) { nodes { title } } users(first: 2) { nodes { name } } }",
        None,
        USER_ID,
        id="forbidden-beside-a-plan",
    ),
    pytest.param(
        "{ a: posts(first: 2) { nodes { title } } orders(first: 1) { nodes { status } } }",
        None,
        None,
        id="unauthenticated-beside-a-plan",
    ),
]


def schema_of(client: httpx.AsyncClient) -> AgoraSchema:
    app: Any = client._transport.app  # type: ignore[attr-defined]
    [route] = [r for r in app.routes if isinstance(r, Route) and r.path == "/graphql"]
    schema: AgoraSchema = route.endpoint.schema  # type: ignore[attr-defined]
    return schema


def comparable(body: dict[str, Any]) -> dict[str, Any]:
    """``data`` and ``errors`` without the request id (the bucket's state in ``extensions``
    moves from one request to the next)."""
    errors = [
        {**error, "extensions": {**error.get("extensions", {}), "requestId": None}}
        for error in body.get("errors") or []
    ]
    return {"data": body.get("data"), "errors": errors}


async def answers(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None,
    viewer_id: int | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The answer of the compiled plans (from the cached plan) and of graphql-core."""
    schema = schema_of(client)
    headers = await viewer_headers(client, viewer_id)
    payload = {"query": query, "variables": variables or {}}
    found = []
    for executor in (CompiledExecutionContext, CompiledExecutionContext, StockExecutionContext):
        schema.execution_context_class = executor
        response = await client.post("/graphql", json=payload, headers=headers)
        found.append(comparable(response.json()))
    schema.execution_context_class = CompiledExecutionContext
    planned, replanned, stock = found
    assert planned == replanned
    return planned, stock


@pytest.fixture
async def post_id(fuzz_client: httpx.AsyncClient) -> str:
    post = await Post.filter(status="PUBLISHED").order_by("id").first()
    assert post is not None
    return global_id("Post", post.id)


@pytest.mark.parametrize(("query", "variables", "viewer_id"), CORPUS)
async def test_plans_answer_the_corpus_as_graphql_core_does(
    fuzz_client: httpx.AsyncClient,
    post_id: str,
    query: str,
    variables: dict[str, Any] | None,
    viewer_id: int | None,
) -> None:
    if "$id" in query:
        variables = {**(variables or {}), "id": post_id}

    planned, stock = await answers(fuzz_client, query, variables, viewer_id)

    assert planned == stock
    codes = {error["extensions"]["code"] for error in planned["errors"]}
    assert not codes & {"GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"}


async def test_the_feed_is_completed_by_plans(fuzz_client: httpx.AsyncClient) -> None:
    PLAN_CHECKS.completed = 0

    planned, stock = await answers(fuzz_client, FEED_WITH_EVERYTHING_PLANNED, None, None)

    assert planned == stock
    assert not planned["errors"]
    assert PLAN_CHECKS.completed == 2  # the two runs through the plans


@VIEWERS
@partial(fuzz, examples=PLAN_FUZZ_EXAMPLES)
@given(query=QUERIES)
async def test_generated_queries_answer_the_same_through_plans_and_graphql_core(
    fuzz_client: httpx.AsyncClient, viewer_id: int | None, query: str
) -> None:
    planned, stock = await answers(fuzz_client, query, None, viewer_id)

    assert planned == stock


async def test_a_repeated_document_is_planned_from_its_second_request(
    fuzz_client: httpx.AsyncClient,
) -> None:
    """As in production (no checks: plans are compiled on a document's second run)."""
    PLAN_CHECKS.enabled = False
    cache = plan_cache(schema_of(fuzz_client)._schema)
    payload = {"query": POSTS_NESTED, "variables": {"n": 3}}

    def completers() -> list[Any]:
        return [
            completer
            for plans in cache._entries.values()
            if plans.operation.loc is not None and plans.operation.loc.source.body == POSTS_NESTED
            for completer in plans.completers.values()
        ]

    first = (await fuzz_client.post("/graphql", json=payload)).json()
    assert completers() == []
    second = (await fuzz_client.post("/graphql", json=payload)).json()
    [completer] = completers()

    assert completer is not None
    assert comparable(second) == comparable(first)
