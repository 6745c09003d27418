"""Batched requests (a JSON array of operations, as Apollo's BatchHttpLink sends them): up to
QUERY_MAX_BATCH operations, run in order, each on its own loaders and with its own result,
all of them within one cost limit and charged to the bucket together."""

from __future__ import annotations

from typing import Any

import httpx

from models.posts import Post
from tests.conftest import AppFactory
from tests.factories import bearer, create_post, create_user, gid

POST_TITLE = "query Title($id: ID!) { node(id: $id) { ... on Post { title } } }"
RENAME = (
    "mutation Rename($id: ID!, $title: String!) "
    "{ updatePost(id: $id, input: {title: $title}) { title } }"
)
# posts 1 + 20 nodes x 1 = 21 points requested.
TWENTY_POSTS = "{ posts(first: 20) { nodes { id } } }"


def operation(query: str, **variables: Any) -> dict[str, Any]:
    return {"query": query, "variables": variables} if variables else {"query": query}


async def batch(
    client: httpx.AsyncClient, operations: list[dict[str, Any]], **headers: str
) -> list[dict[str, Any]]:
    response = await client.post("/graphql", json=operations, headers=headers)
    assert response.status_code == 200, response.text
    results = response.json()
    assert isinstance(results, list)
    assert len(results) == len(operations)
    return results


def codes(result: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in result.get("errors", [])]


# --- size ---------------------------------------------------------------------------------


async def test_a_batch_of_ten_operations_answers_ten_results_in_order(
    client: httpx.AsyncClient,
) -> None:
    author = await create_user()
    posts = [await create_post(author, title=f"Post {index}") for index in range(10)]
    results = await batch(client, [operation(POST_TITLE, id=gid("Post", p.id)) for p in posts])
    assert [result["data"]["node"]["title"] for result in results] == [
        f"Post {index}" for index in range(10)
    ]


async def test_a_batch_of_eleven_operations_is_refused_before_any_runs(
    client: httpx.AsyncClient, sql_statements: Any
) -> None:
    response = await client.post("/graphql", json=[operation(TWENTY_POSTS)] * 11)
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["reason"] == "BATCH_TOO_LARGE"
    assert error["extensions"]["maximumBatchSize"] == 10
    assert error["message"] == "A batch of 11 operations is over the limit of 10"
    assert sql_statements.count == 0


# --- independence and order ---------------------------------------------------------------


async def test_an_operation_failing_in_its_resolver_leaves_the_others_their_data(
    client: httpx.AsyncClient,
) -> None:
    author = await create_user()
    post = await create_post(author, title="Mine")
    stranger = await create_user()
    results = await batch(
        client,
        [
            operation(POST_TITLE, id=gid("Post", post.id)),
            operation(RENAME, id=gid("Post", post.id), title="Stolen"),
            operation(POST_TITLE, id=gid("Post", post.id)),
        ],
        **bearer(client, stranger),
    )
    assert results[0]["data"] == {"node": {"title": "Mine"}}
    assert codes(results[1]) == ["FORBIDDEN"]
    assert results[2]["data"] == {"node": {"title": "Mine"}}


async def test_mutations_in_a_batch_run_in_the_order_sent(client: httpx.AsyncClient) -> None:
    author = await create_user()
    post = await create_post(author, title="Start")
    post_id = gid("Post", post.id)
    results = await batch(
        client,
        [operation(RENAME, id=post_id, title=f"Title {index}") for index in range(5)],
        **bearer(client, author),
    )
    assert [result["data"]["updatePost"]["title"] for result in results] == [
        f"Title {index}" for index in range(5)
    ]
    assert (await Post.get(id=post.id)).title == "Title 4"


async def test_an_operation_reads_what_an_earlier_mutation_of_the_batch_wrote(
    client: httpx.AsyncClient,
) -> None:
    # The first query loads the post through the request's DataLoader; the last one must
    # not be answered from that loader's cache.
    author = await create_user()
    post = await create_post(author, title="Before")
    post_id = gid("Post", post.id)
    results = await batch(
        client,
        [
            operation(POST_TITLE, id=post_id),
            operation(RENAME, id=post_id, title="After"),
            operation(POST_TITLE, id=post_id),
        ],
        **bearer(client, author),
    )
    assert [result["data"] for result in results] == [
        {"node": {"title": "Before"}},
        {"updatePost": {"title": "After"}},
        {"node": {"title": "After"}},
    ]


async def test_a_cached_user_changed_by_an_earlier_operation_is_read_anew(
    client: httpx.AsyncClient,
) -> None:
    # Users are read through the shared model cache as well as the request's loaders.
    viewer = await create_user(name="Old name")
    user_name = "query($id: ID!) { user(id: $id) { name } }"
    results = await batch(
        client,
        [
            operation(user_name, id=gid("User", viewer.id)),
            operation('mutation { updateProfile(input: {name: "New name"}) { name } }'),
            operation(user_name, id=gid("User", viewer.id)),
            operation("{ me { name } }"),
        ],
        **bearer(client, viewer),
    )
    assert [result["data"] for result in results] == [
        {"user": {"name": "Old name"}},
        {"updateProfile": {"name": "New name"}},
        {"user": {"name": "New name"}},
        {"me": {"name": "New name"}},
    ]


async def test_each_operation_of_a_batch_sees_the_viewer(client: httpx.AsyncClient) -> None:
    viewer = await create_user(name="Ada")
    results = await batch(client, [operation("{ me { name } }")] * 3, **bearer(client, viewer))
    assert [result["data"] for result in results] == [{"me": {"name": "Ada"}}] * 3


async def test_a_token_revoked_by_an_earlier_operation_stops_the_later_ones(
    client: httpx.AsyncClient,
) -> None:
    viewer = await create_user()
    results = await batch(
        client,
        [
            operation("{ me { id } }"),
            operation("mutation { logoutAll }"),
            operation("{ me { id } }"),
        ],
        **bearer(client, viewer),
    )
    assert results[0]["data"] == {"me": {"id": gid("User", viewer.id)}}
    assert results[1]["data"] == {"logoutAll": True}
    assert codes(results[2]) == ["UNAUTHENTICATED"]


# --- cost ---------------------------------------------------------------------------------


async def test_the_batch_shares_one_cost_limit(client_factory: AppFactory) -> None:
    client = client_factory(query_max_cost=100)
    results = await batch(client, [operation(TWENTY_POSTS)] * 5 + [operation("{ me { id } }")])
    # 4 x 21 = 84 points fit in 100; a fifth query would bring the batch to 105.
    assert [codes(result) for result in results[:4]] == [[]] * 4
    assert "data" not in results[4]
    [error] = results[4]["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["requestedQueryCost"] == 21
    assert error["extensions"]["batchQueryCost"] == 84
    assert error["extensions"]["maximumQueryCost"] == 100
    # A cheaper operation after it still fits (84 + 1).
    assert results[5]["data"] == {"me": None}


async def test_a_single_operation_over_the_limit_is_refused_alone(
    client_factory: AppFactory,
) -> None:
    client = client_factory(query_max_cost=20)
    results = await batch(client, [operation("{ me { id } }"), operation(TWENTY_POSTS)])
    assert results[0]["data"] == {"me": None}
    assert codes(results[1]) == ["QUERY_TOO_COMPLEX"]
    assert results[1]["errors"][0]["message"] == "Query cost 21 is over the maximum of 20"


async def test_the_bucket_is_charged_the_sum_of_the_operations(
    client_factory: AppFactory,
) -> None:
    client = client_factory(rate_limit_capacity=1000, rate_limit_restore_rate=0.001)
    results = await batch(client, [operation("{ me { id } }")] * 3 + [operation(TWENTY_POSTS)])
    available = [
        result["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] for result in results
    ]
    # 1 point each for `me`; the posts query takes 21 and gives back 20 (no posts exist).
    assert available == [999, 998, 997, 996]


async def test_an_operation_the_bucket_cannot_pay_is_refused_and_the_others_run(
    client_factory: AppFactory,
) -> None:
    author = await create_user()
    for index in range(20):
        await create_post(author, title=f"Post {index}")
    client = client_factory(
        rate_limit_capacity=50, query_max_cost=100, rate_limit_restore_rate=0.001
    )
    results = await batch(client, [operation(TWENTY_POSTS)] * 3 + [operation("{ me { id } }")])
    assert [codes(result) for result in results] == [[], [], ["RATE_LIMITED"], []]
    assert len(results[0]["data"]["posts"]["nodes"]) == 20
