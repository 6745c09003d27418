"""Automatic persisted queries: Apollo's protocol (``extensions.persistedQuery``), as Apollo
Client's PersistedQueryLink and urql's persistedExchange speak it: a hash alone, a miss
answered ``PersistedQueryNotFound``, the document sent once with its hash, then the hash
alone over POST or GET. The same tests run on the Redis store with REDIS_URL."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from redis.asyncio import Redis

from core.metrics import REGISTRY
from server.app import create_app
from server.container import Container
from services.persisted_queries import RedisPersistedQueries
from tests.conftest import AppFactory, data, error_of, make_settings, requires_redis
from tests.error_contract import assert_error_contract

POSTS = "query Posts { posts(first: 2) { totalCount } }"
ME = "{ me { id } }"
RESEND = 'mutation Resend { resendVerificationEmail(email: "nobody@example.com") }'
MODERN = {"Accept": "application/graphql-response+json"}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(text: str, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha256(text)}}


async def by_hash(client: httpx.AsyncClient, text: str, **body: Any) -> httpx.Response:
    response = await client.post(
        "/graphql", json={"extensions": persisted(text), **body}, headers=MODERN
    )
    assert_error_contract(response)
    return response


async def register(client: httpx.AsyncClient, text: str) -> httpx.Response:
    response = await client.post(
        "/graphql", json={"query": text, "extensions": persisted(text)}, headers=MODERN
    )
    assert_error_contract(response)
    return response


async def by_hash_over_get(client: httpx.AsyncClient, text: str) -> httpx.Response:
    response = await client.get(
        "/graphql",
        params={"extensions": orjson.dumps(persisted(text)).decode()},
        headers=MODERN,
    )
    assert_error_contract(response)
    return response


def apq_count(result: str) -> float:
    return REGISTRY.get_sample_value("persisted_queries_total", {"result": result}) or 0.0


async def test_an_unknown_hash_answers_persisted_query_not_found_for_the_client_to_retry(
    client: httpx.AsyncClient,
):
    response = await by_hash(client, POSTS)

    assert response.status_code == 404
    body = response.json()
    assert "data" not in body
    error = error_of(body)
    # Apollo Client matches the message or the code, urql the message: both, exactly.
    assert error["message"] == "PersistedQueryNotFound"
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert response.headers["cache-control"] == "no-store"


async def test_a_miss_answers_200_to_a_client_that_accepts_only_application_json(
    client: httpx.AsyncClient,
):
    response = await client.post(
        "/graphql", json={"extensions": persisted(POSTS)}, headers={"Accept": "application/json"}
    )

    assert_error_contract(response)
    assert response.status_code == 200
    assert error_of(response.json())["message"] == "PersistedQueryNotFound"


async def test_the_document_sent_with_its_hash_runs_and_then_the_hash_alone_runs_it(
    client: httpx.AsyncClient,
):
    registered = await register(client, POSTS)
    assert data(registered) == {"posts": {"totalCount": 0}}

    hit = await by_hash(client, POSTS)

    assert hit.status_code == 200
    assert data(hit) == {"posts": {"totalCount": 0}}


async def test_a_registered_query_runs_by_hash_over_get(client: httpx.AsyncClient):
    assert (await by_hash_over_get(client, POSTS)).status_code == 404
    await register(client, POSTS)

    hit = await by_hash_over_get(client, POSTS)

    assert hit.status_code == 200
    assert data(hit) == {"posts": {"totalCount": 0}}


async def test_a_hash_over_get_from_a_client_accepting_anything_is_an_operation_not_graphiql(
    client: httpx.AsyncClient,
):
    await register(client, POSTS)

    response = await client.get(
        "/graphql",
        params={"extensions": orjson.dumps(persisted(POSTS)).decode()},
        headers={"Accept": "*/*"},  # Apollo Client 3's default
    )

    assert_error_contract(response)
    assert data(response) == {"posts": {"totalCount": 0}}


async def test_a_hash_hit_takes_its_variables_and_operation_name(client: httpx.AsyncClient):
    document = "query A { me { id } } query B($n: Int!) { posts(first: $n) { totalCount } }"
    await register(client, document)  # runs nothing: no operationName
    hits = await by_hash(client, document, operationName="B", variables={"n": 1})

    assert data(hits) == {"posts": {"totalCount": 0}}


async def test_a_mutation_registered_over_post_runs_by_hash_over_post(client: httpx.AsyncClient):
    assert data(await register(client, RESEND)) == {"resendVerificationEmail": True}

    hit = await by_hash(client, RESEND)

    assert data(hit) == {"resendVerificationEmail": True}


async def test_a_stored_mutation_sent_by_hash_over_get_is_refused_with_405(
    client: httpx.AsyncClient,
):
    await register(client, RESEND)

    response = await by_hash_over_get(client, RESEND)

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert error_of(response.json())["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_hash_that_is_not_the_documents_sha256_is_refused_and_stores_nothing(
    client: httpx.AsyncClient,
):
    response = await client.post(
        "/graphql", json={"query": ME, "extensions": persisted(POSTS)}, headers=MODERN
    )

    assert_error_contract(response)
    assert response.status_code == 400
    error = error_of(response.json())
    assert error["message"] == "provided sha does not match query"
    assert error["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"
    assert (await by_hash(client, POSTS)).status_code == 404
    assert (await by_hash(client, ME)).status_code == 404


async def test_a_version_other_than_1_is_refused(client: httpx.AsyncClient):
    response = await client.post(
        "/graphql",
        json={"query": POSTS, "extensions": persisted(POSTS, version=2)},
        headers=MODERN,
    )

    assert_error_contract(response)
    assert response.status_code == 400
    error = error_of(response.json())
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Unsupported persisted query version 2" in error["message"]


@pytest.mark.parametrize(
    "extension",
    [
        "yes",
        {"version": 1},
        {"version": 1, "sha256Hash": "ABC"},
        {"version": 1, "sha256Hash": sha256(POSTS).upper()},
        {"version": 1, "sha256Hash": 12},
    ],
    ids=["not-an-object", "no-hash", "short-hash", "upper-case", "number"],
)
async def test_a_malformed_persisted_query_extension_is_bad_user_input(
    client: httpx.AsyncClient, extension: object
):
    response = await client.post(
        "/graphql", json={"extensions": {"persistedQuery": extension}}, headers=MODERN
    )

    assert_error_contract(response)
    assert response.status_code == 400
    assert error_of(response.json())["extensions"]["code"] == "BAD_USER_INPUT"


async def test_with_apq_turned_off_a_hash_answers_persisted_query_not_supported(
    client_factory: AppFactory,
):
    client = client_factory(apq_enabled=False)

    response = await register(client, POSTS)

    assert response.status_code == 400
    error = error_of(response.json())
    # What Apollo Client and urql match to stop sending hashes and send documents instead.
    assert error["message"] == "PersistedQueryNotSupported"
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_SUPPORTED"


async def test_with_apq_turned_off_a_plain_query_still_runs(client_factory: AppFactory):
    client = client_factory(apq_enabled=False)

    response = await client.post("/graphql", json={"query": POSTS}, headers=MODERN)

    assert data(response) == {"posts": {"totalCount": 0}}


async def test_a_document_that_does_not_validate_is_not_stored(client: httpx.AsyncClient):
    broken = "{ posts(first: 2) { noSuchField } }"

    refused = await register(client, broken)

    assert refused.status_code == 400
    assert error_of(refused.json())["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert (await by_hash(client, broken)).status_code == 404


async def test_a_document_over_the_cost_limit_is_not_stored(client_factory: AppFactory):
    client = client_factory(query_max_cost=5)
    expensive = "{ posts(first: 20) { nodes { author { name } } } }"

    refused = await register(client, expensive)

    assert error_of(refused.json())["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert (await by_hash(client, expensive)).status_code == 404


async def test_a_stored_document_still_passes_every_limit_when_it_runs_by_hash(
    client_factory: AppFactory,
):
    # Stored while the limit was higher (or by a replica configured otherwise).
    client = client_factory(query_max_depth=3)
    deep = "{ posts(first: 1) { nodes { author { posts(first: 1) { nodes { id } } } } } }"
    await client.container.persisted_queries.put(sha256(deep), deep)  # type: ignore[attr-defined]

    response = await by_hash(client, deep)

    assert response.status_code == 400
    assert error_of(response.json())["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_a_document_over_the_size_bound_runs_but_is_not_stored(
    client_factory: AppFactory,
):
    client = client_factory(apq_max_document_bytes=64)
    large = "query Large { posts(first: 2) { totalCount pageInfo { hasNextPage endCursor } } }"
    assert len(large.encode()) > 64
    too_large = apq_count("too_large")

    ran = await register(client, large)

    assert data(ran)["posts"]["totalCount"] == 0
    assert apq_count("too_large") == too_large + 1
    assert (await by_hash(client, large)).status_code == 404


async def test_the_store_keeps_at_most_apq_max_entries_dropping_the_oldest(
    client_factory: AppFactory,
):
    client = client_factory(apq_max_entries=2)
    documents = [
        f"query Q{index} {{ posts(first: {index}) {{ totalCount }} }}" for index in (1, 2, 3)
    ]
    for document in documents:
        data(await register(client, document))

    assert (await by_hash(client, documents[0])).status_code == 404
    assert (await by_hash(client, documents[1])).status_code == 200
    assert (await by_hash(client, documents[2])).status_code == 200


async def test_a_batch_answers_a_miss_for_its_own_operation_and_runs_the_others(
    client: httpx.AsyncClient,
):
    response = await client.post(
        "/graphql",
        json=[{"extensions": persisted(POSTS)}, {"query": ME}],
        headers=MODERN,
    )

    assert_error_contract(response)
    miss, other = response.json()
    assert error_of(miss)["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert "data" not in miss
    assert other["data"] == {"me": None}


async def test_hits_misses_and_registrations_are_counted(client: httpx.AsyncClient):
    before = {result: apq_count(result) for result in ("hit", "miss", "registered")}

    await by_hash(client, POSTS)
    await register(client, POSTS)
    await by_hash(client, POSTS)

    assert apq_count("miss") == before["miss"] + 1
    assert apq_count("registered") == before["registered"] + 1
    assert apq_count("hit") == before["hit"] + 1


@pytest.fixture
async def replicas(db: None) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """Two apps on one Redis with one key prefix: two replicas of the server."""
    prefix = f"test:{uuid.uuid4().hex}:"
    settings = make_settings()
    containers = [Container.from_settings(settings, key_prefix=prefix) for _ in range(2)]
    clients = [
        httpx.AsyncClient(
            transport=httpx.ASGITransport(
                app=create_app(settings, manage_database=False, container=container)
            ),
            base_url="http://testserver",
        )
        for container in containers
    ]
    yield clients[0], clients[1]
    for client in clients:
        await client.aclose()
    redis = containers[0].redis
    assert redis is not None
    keys = [key async for key in redis.scan_iter(match=f"{prefix}*")]
    if keys:
        await redis.delete(*keys)
    for container in containers:
        await container.close()


@requires_redis
async def test_on_redis_a_document_registered_on_one_replica_runs_by_hash_on_another(
    replicas: tuple[httpx.AsyncClient, httpx.AsyncClient],
):
    one, two = replicas
    assert (await by_hash(two, POSTS)).status_code == 404

    await register(one, POSTS)
    hit = await by_hash(two, POSTS)

    assert data(hit) == {"posts": {"totalCount": 0}}


@requires_redis
async def test_on_redis_each_document_expires_after_apq_ttl_seconds(client_factory: AppFactory):
    client = client_factory(apq_ttl_seconds=120)
    await register(client, POSTS)
    store = client.container.persisted_queries  # type: ignore[attr-defined]
    assert isinstance(store, RedisPersistedQueries)

    ttl = await store.redis.ttl(f"{store.prefix}{sha256(POSTS)}")

    assert 0 < ttl <= 120


async def test_an_unreachable_redis_store_answers_a_miss_and_forgets_a_write():
    redis = Redis.from_url("redis://127.0.0.1:1", socket_connect_timeout=0.2)
    store = RedisPersistedQueries(redis, "test:apq:", 10, 60, 1024)
    failures = REGISTRY.get_sample_value(
        "dependency_failures_total", {"dependency": "cache", "operation": "get"}
    )

    await store.put(sha256(POSTS), POSTS)
    found = await store.get(sha256(POSTS))

    assert found is None
    assert (
        REGISTRY.get_sample_value(
            "dependency_failures_total", {"dependency": "cache", "operation": "get"}
        )
        == (failures or 0) + 1
    )
    await redis.aclose()


async def test_the_redis_store_is_used_when_redis_url_is_set() -> None:
    # Never connected: the wiring is what is checked.
    settings = make_settings(redis_url="redis://127.0.0.1:1/0")
    container = Container.from_settings(settings, key_prefix=f"test:{uuid.uuid4().hex}:")
    try:
        assert isinstance(container.persisted_queries, RedisPersistedQueries)
    finally:
        await container.close()
