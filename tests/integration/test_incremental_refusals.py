"""Where @defer/@stream cannot be delivered, the operation is refused before it runs, with a
code: a client that does not accept ``multipart/mixed`` gets 406 (as from Apollo Server and
Apollo Router), an operation of a batch its own error. A directive that is off (``if:
false``) is no incremental delivery at all, and a client accepting multipart gets plain JSON
for an operation that does not stream."""

from __future__ import annotations

import pytest

from models.posts import Post
from tests import factories
from tests.conftest import AppFactory, StatementCounter, error_of, graphql
from tests.incremental import DEFER_SPEC, payloads_of

DEFERRED = "query { posts(first: 2) { nodes { title ... @defer { author { name } } } } }"


@pytest.fixture
async def posts(db: None) -> None:
    author = await factories.create_user()
    for _ in range(3):
        await factories.create_post(author)


@pytest.mark.parametrize(
    "accept",
    [
        "application/json",
        "application/graphql-response+json",
        "application/graphql-response+json, application/json",
        "multipart/mixed;deferSpec=20990101, application/json",
        "multipart/mixed;subscriptionSpec=1.0, application/json",
        "multipart/mixed;deferSpec=20220824;q=0, application/json",
    ],
)
async def test_defer_without_an_accepted_multipart_format_is_refused_with_406_before_it_runs(
    client_factory: AppFactory, posts: None, sql_statements: StatementCounter, accept: str
) -> None:
    client = client_factory()
    sql_statements.reset()

    response = await graphql(client, DEFERRED, headers={"Accept": accept})

    assert response.status_code == 406
    body = response.json()
    assert "data" not in body
    error = error_of(body)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["reason"] == "INCREMENTAL_DELIVERY_NOT_ACCEPTED"
    assert "multipart/mixed;deferSpec=20220824" in error["message"]
    assert sql_statements.count == 0
    assert body["extensions"]["cost"]["requestedQueryCost"] == 0


async def test_stream_without_multipart_is_refused_too(
    client_factory: AppFactory, posts: None
) -> None:
    client = client_factory()

    response = await graphql(
        client,
        "{ posts(first: 2) { nodes @stream { title } } }",
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 406
    assert error_of(response.json())["extensions"]["reason"] == "INCREMENTAL_DELIVERY_NOT_ACCEPTED"


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (
            "{ posts(first: 2) { nodes { title ... @defer(if: false) { author { name } } } } }",
            None,
        ),
        (
            "query($d: Boolean!) { posts(first: 2) { nodes { title "
            "... @defer(if: $d) { author { name } } } } }",
            {"d": False},
        ),
        (
            "query($s: Boolean = true) { posts(first: 2) { nodes { title "
            "... @defer @skip(if: $s) { author { name } } } } }",
            None,
        ),
    ],
    ids=["literal", "variable", "skipped"],
)
async def test_a_defer_that_is_off_answers_plain_json_to_any_client(
    client_factory: AppFactory, posts: None, query: str, variables: dict[str, bool] | None
) -> None:
    client = client_factory()

    response = await graphql(client, query, variables, headers={"Accept": "application/json"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert len(response.json()["data"]["posts"]["nodes"]) == 2


async def test_a_bare_multipart_accept_gets_the_defer_spec_format(
    client_factory: AppFactory, posts: None
) -> None:
    client = client_factory()

    response = await graphql(client, DEFERRED, headers={"Accept": "multipart/mixed"})

    assert response.headers["content-type"] == 'multipart/mixed; boundary="-"; deferSpec=20220824'
    initial, *later = payloads_of(response)
    assert "pending" not in initial
    assert later[-1]["incremental"][0]["path"] == ["posts", "nodes", 0]


async def test_an_operation_without_defer_answers_json_to_a_client_accepting_multipart(
    client_factory: AppFactory, posts: None
) -> None:
    client = client_factory()

    response = await graphql(
        client, "{ posts(first: 2) { nodes { title } } }", headers={"Accept": DEFER_SPEC}
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/graphql-response+json"
    assert len(response.json()["data"]["posts"]["nodes"]) == 2


async def test_a_deferring_operation_of_a_batch_is_refused_and_the_others_run(
    client_factory: AppFactory, posts: None
) -> None:
    client = client_factory()

    response = await client.post(
        "/graphql",
        json=[{"query": "{ posts(first: 1) { nodes { title } } }"}, {"query": DEFERRED}],
        headers={"Accept": DEFER_SPEC},
    )

    assert response.status_code == 200
    plain, deferred = response.json()
    assert len(plain["data"]["posts"]["nodes"]) == 1
    error = error_of(deferred)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["reason"] == "INCREMENTAL_DELIVERY_IN_BATCH"


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ posts(first: 2) { nodes @stream(initialCount: -1) { title } } }", None),
        (
            "query($n: Int!) { posts(first: 2) { nodes @stream(initialCount: $n) { title } } }",
            {"n": -3},
        ),
    ],
    ids=["literal", "variable"],
)
async def test_a_negative_initial_count_is_bad_input_not_an_internal_error(
    client_factory: AppFactory, posts: None, query: str, variables: dict[str, int] | None
) -> None:
    client = client_factory()

    response = await graphql(client, query, variables, headers={"Accept": DEFER_SPEC})

    assert response.status_code == 400
    error = error_of(response.json())
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "initialCount must be 0 or more" in error["message"]


CREATE_DEFERRED = """
mutation($input: CreatePostInput!) {
  createPost(input: $input) { title ... @defer { author { name } } }
}
"""


async def test_a_refused_mutation_with_defer_changes_nothing(
    client_factory: AppFactory, db: None
) -> None:
    author = await factories.create_user(name="Author")
    client = client_factory()
    headers = {**factories.bearer(client, author), "Accept": "application/json"}

    response = await graphql(
        client, CREATE_DEFERRED, {"input": {"title": "Hi", "body": "Text."}}, headers
    )

    assert response.status_code == 406
    assert await Post.filter(author_id=author.id).count() == 0


async def test_a_mutation_with_defer_runs_once_and_streams_its_deferred_selection(
    client_factory: AppFactory, db: None
) -> None:
    author = await factories.create_user(name="Author")
    client = client_factory()
    headers = {**factories.bearer(client, author), "Accept": DEFER_SPEC}

    response = await graphql(
        client, CREATE_DEFERRED, {"input": {"title": "Hi", "body": "Text."}}, headers
    )

    initial, final = payloads_of(response)
    assert initial["data"] == {"createPost": {"title": "Hi"}}
    assert final["incremental"] == [
        {"data": {"author": {"name": "Author"}}, "path": ["createPost"]}
    ]
    assert await Post.filter(author_id=author.id).count() == 1
