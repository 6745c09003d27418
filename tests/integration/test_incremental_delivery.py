"""@defer and @stream over HTTP: ``multipart/mixed`` in the format the client's ``Accept``
names (deferSpec=20220824, what Apollo Client 4's ``Defer20220824Handler`` reads, or
incrementalSpec=v0.2), the payloads merging into exactly the result of the same query
without the directives, with the executor shortcuts on and off; no more SQL statements than
without @defer (a deferred fragment's relations are still loaded a level at a time); the cost
of what is deferred charged; errors of deferred parts in the error contract; and a clear
refusal where incremental delivery cannot be answered."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from models.user import User
from schema.errors import MASKED_MESSAGE
from tests import factories
from tests.conftest import DATABASE_URL, AppFactory, StatementCounter, graphql
from tests.incremental import (
    DEFER_SPEC,
    INCREMENTAL_SPEC,
    merged_defer_spec,
    merged_incremental_spec,
    payloads_of,
)

FEED_DEFERRED = """
query($n: Int) {
  posts(first: $n) {
    edges { node {
      title
      ... @defer(label: "details") {
        author { name }
        commentCount
        comments(first: 3) { edges { node { body author { name } } } }
      }
    } }
  }
}
"""


def without_directives(query: str) -> str:
    return re.sub(r"@(defer|stream)(\([^)]*\))?", "", query)


@pytest.fixture
async def feed(db: None) -> None:
    """12 published posts by 3 authors, 4 comments each."""
    authors = await factories.create_users(3)
    commenters = await factories.create_users(4)
    for index in range(12):
        post = await factories.create_post(authors[index % 3])
        await factories.create_comments(post, commenters)


async def plain_result(client_factory: AppFactory, query: str, variables: dict[str, Any]) -> Any:
    client = client_factory(query_max_cost=5000)
    body = (await graphql(client, without_directives(query), variables)).json()
    assert "errors" not in body, body
    return body["data"]


@pytest.mark.parametrize("shortcuts", [True, False], ids=["shortcuts", "stock"])
async def test_a_deferred_fragment_arrives_after_the_initial_payload_and_completes_the_result(
    client_factory: AppFactory, feed: None, shortcuts: bool
) -> None:
    client = client_factory(library_shortcuts=shortcuts, query_max_cost=5000)

    response = await graphql(client, FEED_DEFERRED, {"n": 4}, headers={"Accept": DEFER_SPEC})

    assert response.headers["content-type"] == ('multipart/mixed; boundary="-"; deferSpec=20220824')
    initial, *later = payloads_of(response)
    assert initial["hasNext"] is True
    assert all(set(edge["node"]) == {"title"} for edge in initial["data"]["posts"]["edges"])
    assert initial["extensions"]["requestId"] == response.headers["x-request-id"]
    assert [payload["hasNext"] for payload in later] == [False]
    entries = later[0]["incremental"]
    assert [entry["path"] for entry in entries] == [
        ["posts", "edges", index, "node"] for index in range(4)
    ]
    assert {entry["label"] for entry in entries} == {"details"}
    assert set(entries[0]["data"]) == {"author", "commentCount", "comments"}
    assert merged_defer_spec([initial, *later]) == {
        "data": await plain_result(client_factory, FEED_DEFERRED, {"n": 4}),
        "errors": [],
    }


async def test_the_incremental_spec_format_merges_into_the_same_result(
    client_factory: AppFactory, feed: None
) -> None:
    client = client_factory(query_max_cost=5000)

    response = await graphql(client, FEED_DEFERRED, {"n": 4}, headers={"Accept": INCREMENTAL_SPEC})

    assert response.headers["content-type"] == 'multipart/mixed; boundary="-"; incrementalSpec=v0.2'
    payloads = payloads_of(response)
    assert [record["label"] for record in payloads[0]["pending"]] == ["details"] * 4
    assert merged_incremental_spec(payloads) == {
        "data": await plain_result(client_factory, FEED_DEFERRED, {"n": 4}),
        "errors": [],
    }


STREAMED_EDGES = """
query($n: Int) {
  posts(first: $n) {
    edges @stream(initialCount: 2) { node { title author { name } } }
  }
}
"""


@pytest.mark.parametrize("shortcuts", [True, False], ids=["shortcuts", "stock"])
async def test_a_streamed_edges_list_sends_its_first_items_then_the_rest_at_their_indexes(
    client_factory: AppFactory, feed: None, shortcuts: bool
) -> None:
    client = client_factory(library_shortcuts=shortcuts, query_max_cost=5000)

    response = await graphql(client, STREAMED_EDGES, {"n": 5}, headers={"Accept": DEFER_SPEC})

    initial, *later = payloads_of(response)
    assert len(initial["data"]["posts"]["edges"]) == 2
    streamed = [entry for payload in later for entry in payload.get("incremental", [])]
    assert streamed[0]["path"] == ["posts", "edges", 2]
    assert sum(len(entry["items"]) for entry in streamed) == 3
    assert later[-1]["hasNext"] is False
    assert merged_defer_spec([initial, *later]) == {
        "data": await plain_result(client_factory, STREAMED_EDGES, {"n": 5}),
        "errors": [],
    }


STREAM_IN_DEFER = """
query {
  posts(first: 3) {
    edges { node {
      title
      ... @defer { comments(first: 4) { edges @stream(initialCount: 1) { node { body } } } }
    } }
  }
}
"""


@pytest.mark.parametrize(
    ("accept", "merge"),
    [(DEFER_SPEC, merged_defer_spec), (INCREMENTAL_SPEC, merged_incremental_spec)],
    ids=["deferSpec", "incrementalSpec"],
)
async def test_a_stream_inside_a_deferred_fragment_continues_after_the_fragments_items(
    client_factory: AppFactory, feed: None, accept: str, merge: Any
) -> None:
    client = client_factory(query_max_cost=5000)

    payloads = payloads_of(await graphql(client, STREAM_IN_DEFER, headers={"Accept": accept}))

    assert merge(payloads) == {
        "data": await plain_result(client_factory, STREAM_IN_DEFER, {}),
        "errors": [],
    }
    if accept == DEFER_SPEC:
        streamed = [
            entry["path"]
            for payload in payloads[1:]
            for entry in payload.get("incremental", [])
            if "items" in entry
        ]
        assert ["posts", "edges", 0, "node", "comments", "edges", 1] in streamed


DEFER_IN_STREAM = """
query {
  posts(first: 4) {
    edges @stream(initialCount: 1) {
      cursor
      node { title ... @defer(label: "details") { author { name } commentCount } }
    }
  }
}
"""


@pytest.mark.parametrize(
    ("accept", "merge"),
    [(DEFER_SPEC, merged_defer_spec), (INCREMENTAL_SPEC, merged_incremental_spec)],
    ids=["deferSpec", "incrementalSpec"],
)
async def test_fragments_deferred_inside_streamed_items_land_after_their_items(
    client_factory: AppFactory, feed: None, accept: str, merge: Any
) -> None:
    """One payload brings the streamed items and the fragments deferred inside them: each
    fragment comes after the item it lands in (Apollo Client merges in array order)."""
    client = client_factory(query_max_cost=5000)

    payloads = payloads_of(await graphql(client, DEFER_IN_STREAM, headers={"Accept": accept}))

    assert merge(payloads) == {
        "data": await plain_result(client_factory, DEFER_IN_STREAM, {}),
        "errors": [],
    }


NESTED_DEFERS = """
query {
  posts(first: 3) {
    nodes {
      title
      ... @defer(label: "outer") { author { name ... @defer(label: "inner") { postCount } } }
    }
  }
  ... @defer(label: "root") { products(first: 2) { nodes { name } } }
}
"""


@pytest.mark.parametrize(
    ("accept", "merge"),
    [(DEFER_SPEC, merged_defer_spec), (INCREMENTAL_SPEC, merged_incremental_spec)],
    ids=["deferSpec", "incrementalSpec"],
)
async def test_nested_and_root_deferred_fragments_merge_into_the_full_result(
    client_factory: AppFactory, feed: None, accept: str, merge: Any
) -> None:
    seller = await factories.create_user()
    await factories.create_product(seller)
    client = client_factory(query_max_cost=5000)

    payloads = payloads_of(await graphql(client, NESTED_DEFERS, headers={"Accept": accept}))

    assert merge(payloads) == {
        "data": await plain_result(client_factory, NESTED_DEFERS, {}),
        "errors": [],
    }


async def statements_of(
    client_factory: AppFactory,
    sql_statements: StatementCounter,
    query: str,
    n: int,
    accept: str,
    shortcuts: bool,
) -> int:
    """The statements of one request to a fresh app (a cold cache), the stream read to its
    end."""
    client = client_factory(library_shortcuts=shortcuts, query_max_cost=5000)
    sql_statements.reset()
    response = await graphql(client, query, {"n": n}, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    return sql_statements.count


@pytest.mark.parametrize("shortcuts", [True, False], ids=["shortcuts", "stock"])
async def test_a_deferred_fragment_over_a_list_loads_its_relations_a_level_at_a_time(
    client_factory: AppFactory, sql_statements: StatementCounter, feed: None, shortcuts: bool
) -> None:
    small = await statements_of(
        client_factory, sql_statements, FEED_DEFERRED, 3, DEFER_SPEC, shortcuts
    )
    large = await statements_of(
        client_factory, sql_statements, FEED_DEFERRED, 12, DEFER_SPEC, shortcuts
    )
    plain = await statements_of(
        client_factory,
        sql_statements,
        without_directives(FEED_DEFERRED),
        12,
        "application/json",
        shortcuts,
    )

    # posts page, post authors, comment counts, comments window, comment authors
    assert small == large == plain == 5


OVERLAPPING = """
query($n: Int) {
  posts(first: $n) {
    edges { node {
      title
      author { name }
      ... @defer { author { postCount posts(first: 2) { nodes { title } } } }
    } }
  }
}
"""


@pytest.mark.parametrize("shortcuts", [True, False], ids=["shortcuts", "stock"])
async def test_a_relation_selected_inside_and_outside_a_deferred_fragment_is_loaded_once(
    client_factory: AppFactory, sql_statements: StatementCounter, feed: None, shortcuts: bool
) -> None:
    """graphql-core delivers the deferred sub-fields of ``author`` with a ``subPath``
    below the author the initial payload has: they still read what the level loaded."""
    small = await statements_of(
        client_factory, sql_statements, OVERLAPPING, 3, DEFER_SPEC, shortcuts
    )
    large = await statements_of(
        client_factory, sql_statements, OVERLAPPING, 12, DEFER_SPEC, shortcuts
    )
    plain = await statements_of(
        client_factory,
        sql_statements,
        without_directives(OVERLAPPING),
        12,
        "application/json",
        shortcuts,
    )

    # posts page, authors, their post counts, their first posts (one window)
    assert small == large == plain == 4
    client = client_factory(library_shortcuts=shortcuts, query_max_cost=5000)
    payloads = payloads_of(
        await graphql(client, OVERLAPPING, {"n": 5}, headers={"Accept": DEFER_SPEC})
    )
    assert merged_defer_spec(payloads)["data"] == await plain_result(
        client_factory, OVERLAPPING, {"n": 5}
    )


async def test_a_streamed_list_loads_its_relations_a_level_at_a_time(
    client_factory: AppFactory, sql_statements: StatementCounter, feed: None
) -> None:
    small = await statements_of(client_factory, sql_statements, STREAMED_EDGES, 3, DEFER_SPEC, True)
    large = await statements_of(
        client_factory, sql_statements, STREAMED_EDGES, 12, DEFER_SPEC, True
    )

    assert small == large == 2  # posts page, authors


async def test_a_deferred_fragment_costs_what_it_costs_without_defer(
    client_factory: AppFactory, feed: None
) -> None:
    deferred_client = client_factory(query_max_cost=5000)
    plain_client = client_factory(query_max_cost=5000)

    deferred = payloads_of(
        await graphql(deferred_client, FEED_DEFERRED, {"n": 10}, headers={"Accept": DEFER_SPEC})
    )
    plain = (await graphql(plain_client, without_directives(FEED_DEFERRED), {"n": 10})).json()

    cost = deferred[0]["extensions"]["cost"]
    assert cost["requestedQueryCost"] == plain["extensions"]["cost"]["requestedQueryCost"] > 40
    # What is deferred is not measured before it runs: the whole requested cost is charged.
    assert cost["actualQueryCost"] == cost["requestedQueryCost"]
    throttle = cost["throttleStatus"]
    assert (
        throttle["currentlyAvailable"] == throttle["maximumAvailable"] - cost["requestedQueryCost"]
    )


async def test_a_deferred_fragment_over_the_cost_limit_is_refused_before_anything_runs(
    client_factory: AppFactory, feed: None, sql_statements: StatementCounter
) -> None:
    client = client_factory(query_max_cost=30)
    sql_statements.reset()

    response = await graphql(client, FEED_DEFERRED, {"n": 10}, headers={"Accept": DEFER_SPEC})

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert sql_statements.count == 0


# --- errors of deferred parts ------------------------------------------------------------

ANONYMOUS_ORDERS = """
{
  posts(first: 1) { nodes { title } }
  ... @defer(label: "mine") { orders(first: 1) { totalCount } }
}
"""


async def test_a_deferred_fragment_that_fails_arrives_as_null_with_its_coded_errors(
    client_factory: AppFactory, feed: None
) -> None:
    client = client_factory()

    response = await graphql(client, ANONYMOUS_ORDERS, headers={"Accept": DEFER_SPEC})

    initial, final = payloads_of(response)
    assert len(initial["data"]["posts"]["nodes"]) == 1
    assert "errors" not in initial
    [entry] = final["incremental"]
    assert entry["data"] is None
    assert entry["path"] == []
    assert entry["label"] == "mine"
    [error] = entry["errors"]
    assert error["path"] == ["orders"]
    assert error["extensions"] == {
        "code": "UNAUTHENTICATED",
        "requestId": response.headers["x-request-id"],
    }


async def test_a_failed_deferred_fragment_is_completed_with_its_errors_in_the_incremental_spec(
    client_factory: AppFactory, feed: None
) -> None:
    client = client_factory()

    response = await graphql(client, ANONYMOUS_ORDERS, headers={"Accept": INCREMENTAL_SPEC})

    initial, final = payloads_of(response)
    assert "incremental" not in final
    [completed] = final["completed"]
    assert completed["id"] == initial["pending"][0]["id"]
    assert completed["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.fixture
def broken_user_lookups(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any user lookup fails the way a bug deep in a data path would."""

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(User, "filter", explode)
    # The users' cache misses run hand-written SQL (models/rows.py) on the model's connection.
    monkeypatch.setattr(User, "_choose_db", explode)


async def test_an_unexpected_error_in_a_deferred_part_is_masked_in_production_and_logged(
    client_factory: AppFactory,
    feed: None,
    broken_user_lookups: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = client_factory(
        app_env="production",
        database_url=DATABASE_URL,
        jwt_secret="j" * 40,
        refresh_token_secret="r" * 40,
        metrics_token="m" * 40,
    )
    query = '{ posts(first: 1) { nodes { title } } ... @defer { user(id: "VXNlcjox") { name } } }'

    with caplog.at_level(logging.ERROR, logger="agora.graphql"):
        response = await graphql(client, query, headers={"Accept": DEFER_SPEC})

    _, final = payloads_of(response)
    [entry] = final["incremental"]
    assert entry["data"] == {"user": None}
    [error] = entry["errors"]
    assert error["message"] == MASKED_MESSAGE
    assert error["extensions"] == {
        "code": "INTERNAL_SERVER_ERROR",
        "requestId": response.headers["x-request-id"],
    }
    logged = [record for record in caplog.records if record.name == "agora.graphql"]
    assert [record.getMessage() for record in logged] == ["unexpected error: boom"]
