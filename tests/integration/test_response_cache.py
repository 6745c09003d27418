"""The server-side response cache (README, "Response cache"): an anonymous PUBLIC query is
answered from the cache without SQL, never to another viewer, and dropped by the mutations
that change what it shows."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis

from core.metrics import REGISTRY
from models.posts import Post, PostStatus
from models.user import Role
from server.app import create_app
from server.cli import forget_cached_responses
from server.container import Container
from services.jobs import InProcessJobQueue
from services.redis_pools import PoolBounds, bounded_client
from services.response_cache import RedisResponseCache
from tests import factories
from tests.conftest import (
    REDIS_URL,
    AppFactory,
    StatementCounter,
    data,
    graphql,
    make_settings,
    requires_redis,
)

FEED = "{ posts(first: 10) { edges { node { title author { name } } } } }"
POST = "query($id: ID!) { post(id: $id) { title } }"
PRODUCT = "query($id: ID!) { product(id: $id) { id name } }"
USER = "query($id: ID!) { user(id: $id) { id name } }"


@pytest.fixture
def cached(client_factory: AppFactory) -> httpx.AsyncClient:
    return client_factory(response_cache_enabled=True)


def operations_run() -> float:
    """Every operation the schema ran (``graphql_operations_total``), whatever its labels."""
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "graphql_operations"
        for sample in metric.samples
        if sample.name == "graphql_operations_total"
    )


def cache_state(response: httpx.Response) -> str | None:
    state: str | None = response.headers.get("x-response-cache")
    return state


async def get(
    client: httpx.AsyncClient, query: str, variables: str | None = None
) -> httpx.Response:
    params = {"query": query} if variables is None else {"query": query, "variables": variables}
    return await client.get("/graphql", params=params)


async def test_a_public_query_is_answered_from_the_cache_without_sql(
    cached: httpx.AsyncClient, sql_statements: StatementCounter
) -> None:
    await factories.create_post(await factories.create_user(name="Ada"), title="Hello")
    first = await get(cached, FEED)
    sql_statements.reset()
    second = await get(cached, FEED)
    assert sql_statements.count == 0
    assert (cache_state(first), cache_state(second)) == ("MISS", "HIT")
    assert second.content == first.content
    assert second.headers["etag"] == first.headers["etag"]
    assert second.headers["cache-control"].startswith("public, max-age=")


async def test_a_post_query_is_cached_too_with_its_request_id(cached: httpx.AsyncClient) -> None:
    await factories.create_post(await factories.create_user(), title="Hello")
    miss = await graphql(cached, FEED)
    hit = await graphql(cached, FEED)
    assert cache_state(hit) == "HIT"
    assert data(hit) == data(miss)
    assert data(hit)["posts"]["edges"][0]["node"]["title"] == "Hello"
    assert hit.json()["extensions"]["requestId"] == hit.headers["x-request-id"]
    assert hit.headers["cache-control"] == "no-store"


async def test_the_extensions_of_a_post_answer_say_whether_it_was_a_hit(
    cached: httpx.AsyncClient,
) -> None:
    await factories.create_post(await factories.create_user())
    miss, hit = await graphql(cached, FEED), await graphql(cached, FEED)
    assert miss.json()["extensions"]["responseCache"] == {"hit": False}
    assert hit.json()["extensions"]["responseCache"] == {"hit": True}


async def test_a_hit_runs_no_operation(cached: httpx.AsyncClient) -> None:
    await factories.create_post(await factories.create_user())
    await get(cached, FEED)
    await graphql(cached, FEED)
    before = operations_run()
    assert cache_state(await get(cached, FEED)) == "HIT"
    assert cache_state(await graphql(cached, FEED)) == "HIT"
    assert operations_run() == before


async def test_a_get_hit_answers_304_to_its_etag(cached: httpx.AsyncClient) -> None:
    await factories.create_post(await factories.create_user())
    miss = await get(cached, FEED)
    revalidated = await cached.get(
        "/graphql", params={"query": FEED}, headers={"If-None-Match": miss.headers["etag"]}
    )
    assert revalidated.status_code == 304
    assert cache_state(revalidated) == "HIT"


async def test_a_request_with_other_parameters_is_looked_up_after_resolving_its_document(
    cached: httpx.AsyncClient,
) -> None:
    await factories.create_post(await factories.create_user(), title="Hello")
    await graphql(cached, FEED)
    with_extensions = {"query": FEED, "extensions": {"client": "test"}}
    hit = await cached.post("/graphql", json=with_extensions)
    assert cache_state(hit) == "HIT"
    assert data(hit)["posts"]["edges"][0]["node"]["title"] == "Hello"


async def test_the_answer_of_one_media_type_is_not_served_for_another(
    cached: httpx.AsyncClient,
) -> None:
    await factories.create_post(await factories.create_user())
    assert (await get(cached, FEED)).headers["content-type"] == "application/json"
    modern = await cached.get(
        "/graphql",
        params={"query": FEED},
        headers={"Accept": "application/graphql-response+json"},
    )
    assert cache_state(modern) == "MISS"
    assert modern.headers["content-type"] == "application/graphql-response+json"


@pytest.mark.parametrize("role", [Role.USER, Role.MODERATOR, Role.ADMIN])
async def test_an_authenticated_viewer_never_gets_the_anonymous_answer(
    cached: httpx.AsyncClient, role: Role
) -> None:
    author = await factories.create_user(role=role)
    draft = await factories.create_post(author, title="Draft", status=PostStatus.DRAFT)
    variables = {"id": factories.gid("Post", draft.id)}
    anonymous = await graphql(cached, POST, variables)
    assert data(anonymous)["post"] is None
    assert cache_state(await graphql(cached, POST, variables)) == "HIT"
    own = await graphql(cached, POST, variables, headers=factories.bearer(cached, author))
    assert cache_state(own) is None
    assert data(own)["post"] == {"title": "Draft"}


@pytest.mark.parametrize("role", [Role.USER, Role.MODERATOR, Role.ADMIN])
async def test_an_authenticated_answer_is_never_served_to_anyone_else(
    cached: httpx.AsyncClient, role: Role
) -> None:
    author = await factories.create_user(role=role)
    draft = await factories.create_post(author, title="Draft", status=PostStatus.DRAFT)
    variables = {"id": factories.gid("Post", draft.id)}
    own = await graphql(cached, POST, variables, headers=factories.bearer(cached, author))
    assert data(own)["post"] == {"title": "Draft"}
    other = await factories.create_user()
    for headers in ({}, factories.bearer(cached, other)):
        answer = await graphql(cached, POST, variables, headers=headers)
        assert cache_state(answer) != "HIT"
        assert data(answer)["post"] is None


async def test_updating_a_product_drops_the_responses_showing_it(
    cached: httpx.AsyncClient,
) -> None:
    admin = await factories.create_user(role=Role.ADMIN)
    product = await factories.create_product(admin, name="Lamp")
    variables = {"id": factories.gid("Product", product.id)}
    await graphql(cached, PRODUCT, variables)
    update = 'mutation($id: ID!) { updateProduct(id: $id, input: {name: "Desk"}) { name } }'
    assert (
        cache_state(await graphql(cached, update, variables, factories.bearer(cached, admin)))
        != "HIT"
    )
    after = await graphql(cached, PRODUCT, variables)
    assert cache_state(after) == "MISS"
    assert data(after)["product"]["name"] == "Desk"


async def test_updating_a_post_drops_the_feed_and_the_post(cached: httpx.AsyncClient) -> None:
    author = await factories.create_user()
    post = await factories.create_post(author, title="Old")
    variables = {"id": factories.gid("Post", post.id)}
    await graphql(cached, POST, variables)
    await graphql(cached, FEED)
    update = 'mutation($id: ID!) { updatePost(id: $id, input: {title: "New"}) { title } }'
    data(await graphql(cached, update, variables, factories.bearer(cached, author)))
    assert data(await graphql(cached, POST, variables))["post"]["title"] == "New"
    assert data(await graphql(cached, FEED))["posts"]["edges"][0]["node"]["title"] == "New"


async def test_updating_a_user_drops_the_responses_showing_them(cached: httpx.AsyncClient) -> None:
    user = await factories.create_user(name="Ada")
    variables = {"id": factories.gid("User", user.id)}
    await graphql(cached, USER, variables)
    rename = 'mutation { updateProfile(input: {name: "Grace"}) { name } }'
    data(await graphql(cached, rename, headers=factories.bearer(cached, user)))
    after = await graphql(cached, USER, variables)
    assert cache_state(after) == "MISS"
    assert data(after)["user"]["name"] == "Grace"


async def test_creating_a_post_drops_the_cached_feed_pages(cached: httpx.AsyncClient) -> None:
    author = await factories.create_user()
    await factories.create_post(author, title="First")
    await graphql(cached, FEED)
    create = 'mutation { createPost(input: {title: "Second", body: "b", publish: true}) { id } }'
    data(await graphql(cached, create, headers=factories.bearer(cached, author)))
    after = await graphql(cached, FEED)
    assert cache_state(after) == "MISS"
    titles = {edge["node"]["title"] for edge in data(after)["posts"]["edges"]}
    assert titles == {"First", "Second"}


async def test_a_response_with_errors_is_not_cached(cached: httpx.AsyncClient) -> None:
    bad = {"id": "not-an-id"}
    first, second = await graphql(cached, POST, bad), await graphql(cached, POST, bad)
    assert first.json()["errors"]
    assert second.json()["errors"]
    assert cache_state(second) == "MISS"


async def test_a_mutation_is_never_cached(cached: httpx.AsyncClient) -> None:
    user = await factories.create_user()
    rename = 'mutation { updateProfile(input: {name: "Grace"}) { name } }'
    headers = factories.bearer(cached, user)
    for _ in range(2):
        assert cache_state(await graphql(cached, rename, headers=headers)) is None
    anonymous = await graphql(cached, rename)
    assert cache_state(await graphql(cached, rename)) != "HIT"
    assert anonymous.json()["errors"]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_an_entry_expires_after_its_max_age(client_factory: AppFactory) -> None:
    client = client_factory(response_cache_enabled=True, http_cache_max_age_seconds=5)
    clock = FakeClock()
    client.container.response_cache.clock = clock  # type: ignore[attr-defined]
    await factories.create_post(await factories.create_user())
    await get(client, FEED)
    clock.now += 4.5
    hit = await get(client, FEED)
    assert cache_state(hit) == "HIT"
    assert hit.headers["cache-control"] == "public, max-age=1"
    clock.now += 0.5
    assert cache_state(await get(client, FEED)) == "MISS"


async def test_the_cache_is_off_unless_enabled(client: httpx.AsyncClient) -> None:
    await factories.create_post(await factories.create_user())
    await get(client, FEED)
    assert cache_state(await get(client, FEED)) is None


async def test_an_unreachable_redis_still_answers(client_factory: AppFactory) -> None:
    client = client_factory(response_cache_enabled=True, redis_url="redis://127.0.0.1:1")
    await factories.create_post(await factories.create_user(), title="Hello")
    for _ in range(2):
        response = await get(client, FEED)
        assert cache_state(response) == "MISS"
        assert data(response)["posts"]["edges"][0]["node"]["title"] == "Hello"


@pytest.fixture
async def replicas(db: None) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """Two apps, each with its own container, sharing one Redis key prefix (two replicas)."""
    prefix = f"test:{uuid.uuid4().hex}:"
    settings = make_settings(response_cache_enabled=True)
    containers = [Container.from_settings(settings, key_prefix=prefix) for _ in range(2)]
    clients = []
    for container in containers:
        app = create_app(settings, manage_database=False, container=container)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 50000)),
            base_url="http://testserver",
        )
        client.container = container  # type: ignore[attr-defined]  # for factories.bearer
        clients.append(client)
    yield clients[0], clients[1]
    for client, container in zip(clients, containers, strict=True):
        await client.aclose()
        await container.close()


@requires_redis
async def test_with_redis_a_replica_serves_what_another_cached_and_sees_its_invalidation(
    replicas: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    first, second = replicas
    assert isinstance(first.container.response_cache, RedisResponseCache)  # type: ignore[attr-defined]
    author = await factories.create_user()
    post = await factories.create_post(author, title="Old")
    assert cache_state(await get(first, FEED)) == "MISS"
    assert cache_state(await get(second, FEED)) == "HIT"
    update = 'mutation($id: ID!) { updatePost(id: $id, input: {title: "New"}) { title } }'
    variables = {"id": factories.gid("Post", post.id)}
    data(await graphql(second, update, variables, factories.bearer(second, author)))
    after = await get(first, FEED)
    assert cache_state(after) == "MISS"
    assert data(after)["posts"]["edges"][0]["node"]["title"] == "New"


@requires_redis
async def test_the_redis_store_keeps_at_most_its_bound_of_entries() -> None:
    assert REDIS_URL is not None
    redis = Redis.from_url(REDIS_URL)
    prefix = f"test:{uuid.uuid4().hex}:"
    store = RedisResponseCache(redis, prefix, enabled=True, max_entries=2)
    try:
        for key in ("a", "b", "c"):
            await store.put(key, b"{}", None, ["Query.posts"], ttl=60)
        assert await store.get("a") is None
        assert await store.get("b") is not None
        assert await store.get("c") is not None
        assert await redis.zcard(f"{prefix}entries") == 2
    finally:
        await redis.delete(*[key async for key in redis.scan_iter(f"{prefix}*")])
        await redis.aclose()


@requires_redis
async def test_the_redis_store_drops_every_entry_of_the_invalidated_tags_and_only_them() -> None:
    assert REDIS_URL is not None
    redis = Redis.from_url(REDIS_URL)
    prefix = f"test:{uuid.uuid4().hex}:"
    store = RedisResponseCache(redis, prefix, enabled=True, max_entries=10)
    try:
        await store.put("a", b"{}", None, ["Post:1", "Query.posts"], ttl=60)
        await store.put("b", b"{}", None, ["Post:2"], ttl=60)
        await store.put("c", b"{}", None, ["User:1"], ttl=60)
        await store.invalidate(["Post:1", "Post:2", "Post:3"])
        assert await store.get("a") is None
        assert await store.get("b") is None
        assert await store.get("c") is not None
        assert await redis.zcard(f"{prefix}entries") == 1
    finally:
        await redis.delete(*[key async for key in redis.scan_iter(f"{prefix}*")])
        await redis.aclose()


async def test_an_unreachable_redis_store_is_a_miss_and_never_an_error() -> None:
    # The project's client: a plain `Redis(host=..., port=1)` of redis-py 7.4 took ~27 s to fail
    # these four calls here (its default retries), this one fails each at once.
    redis = bounded_client("redis://127.0.0.1:1", PoolBounds(max_connections=2, wait_seconds=0.2))
    store = RedisResponseCache(redis, "test:", enabled=True, max_entries=10)
    try:
        await store.put("a", b"{}", None, ["Post:1"], ttl=60)
        assert await store.get("a") is None
        await store.invalidate(["Post:1"])
        await store.clear()
    finally:
        await redis.aclose()


async def test_a_change_said_outside_a_mutation_drops_the_responses_showing_it(
    cached: httpx.AsyncClient,
) -> None:
    """What a job or a script writes, said through the container's hook after its commit
    (``JobContext.changes`` is the same object)."""
    post = await factories.create_post(await factories.create_user(), title="Old")
    await get(cached, FEED)
    await Post.filter(id=post.id).update(title="New")
    container: Container = cached.container  # type: ignore[attr-defined]
    await container.changes.changed("Post", [post.id])
    after = await get(cached, FEED)
    assert cache_state(after) == "MISS"
    assert data(after)["posts"]["edges"][0]["node"]["title"] == "New"


async def test_jobs_run_in_process_get_the_containers_hook(cached: httpx.AsyncClient) -> None:
    container: Container = cached.container  # type: ignore[attr-defined]
    assert isinstance(container.jobs, InProcessJobQueue)
    assert container.jobs.context.changes is container.changes


@requires_redis
async def test_the_seed_command_drops_every_cached_response_in_redis(
    replicas: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    first, _ = replicas
    container: Container = first.container  # type: ignore[attr-defined]
    await factories.create_post(await factories.create_user())
    await get(first, FEED)
    assert cache_state(await get(first, FEED)) == "HIT"
    prefix = container.changes.responses.prefix  # type: ignore[attr-defined]
    await forget_cached_responses(container.settings, prefix.removesuffix("responses:"))
    assert cache_state(await get(first, FEED)) == "MISS"


async def test_an_object_shown_without_its_id_still_tags_the_answer(
    cached: httpx.AsyncClient,
) -> None:
    """The author of a single post, selected without ``id``: renaming them drops the answer."""
    author = await factories.create_user(name="Ada")
    post = await factories.create_post(author, title="Hello")
    query = "query($id: ID!) { post(id: $id) { title author { name } } }"
    variables = {"id": factories.gid("Post", post.id)}
    await graphql(cached, query, variables)
    assert cache_state(await graphql(cached, query, variables)) == "HIT"
    rename = 'mutation { updateProfile(input: {name: "Grace"}) { name } }'
    data(await graphql(cached, rename, headers=factories.bearer(cached, author)))
    after = await graphql(cached, query, variables)
    assert cache_state(after) == "MISS"
    assert data(after)["post"]["author"]["name"] == "Grace"
