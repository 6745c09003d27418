"""Guard rails through the ASGI app: document limits and the cost limit answer 400
QUERY_TOO_COMPLEX before execution; the per-client cost budget answers 429 RATE_LIMITED
with Retry-After, refills, and is refunded to the actual cost; the Redis bucket store is
shared by replicas, atomic, and falls back to the process when Redis is down."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from core.metrics import REGISTRY
from models.user import Role, User, UserStatus
from server.app import create_app
from server.container import Container
from services.rate_limit import BucketPolicy, RedisBucketStore
from tests.conftest import REDIS_URL, AppFactory, graphql, make_settings, requires_redis
from vocabulary.relay import to_global_id

COST_FIELDS = {"requestedQueryCost", "actualQueryCost", "throttleStatus"}
THROTTLE_FIELDS = {"maximumAvailable", "currentlyAvailable", "restoreRate"}
MISSING_USER_ID = to_global_id("User", 999_999)


async def create_user(name: str = "Ada") -> User:
    return await User.create(
        name=name,
        email=f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com",
        password_hash="x",
        role=Role.USER,
        status=UserStatus.ACTIVE,
    )


def nodes_query(count: int) -> str:
    """``count`` aliased ``node`` lookups of ``$id``: costs ``count`` when the node exists."""
    fields = " ".join(f"n{index}: node(id: $id) {{ id }}" for index in range(count))
    return f"query($id: ID!) {{ {fields} }}"


def cost_of(response: httpx.Response) -> dict[str, Any]:
    cost: dict[str, Any] = response.json()["extensions"]["cost"]
    return cost


def assert_too_complex(response: httpx.Response, *fragments: str) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    for fragment in fragments:
        assert fragment in error["message"]
    return body


@contextmanager
def sql_statements() -> Iterator[list[str]]:
    """The SQL statements Tortoise runs inside the block (logged at DEBUG)."""
    statements: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage().lstrip().upper()
            if message.startswith(("SELECT", "INSERT", "UPDATE", "DELETE")):
                statements.append(message)

    logger = logging.getLogger("tortoise.db_client")
    handler = Collect()
    previous = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield statements
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous[0])
        logger.propagate = previous[1]


# --- document limits ----------------------------------------------------------------------


async def test_depth_over_the_limit_is_refused(client_factory: AppFactory):
    client = client_factory(query_max_depth=1)
    response = await graphql(client, "{ me { id } }")
    assert_too_complex(response, "2 levels deep", "maximum is 1")


async def test_depth_at_the_limit_is_allowed(client_factory: AppFactory):
    client = client_factory(query_max_depth=2)
    response = await graphql(client, "{ me { id } }")
    assert response.status_code == 200
    assert response.json()["data"] == {"me": None}


async def test_aliases_over_the_limit_are_refused(client_factory: AppFactory):
    client = client_factory(query_max_aliases=2)
    response = await graphql(client, "{ a: me { id } b: me { id } c: me { id } }")
    assert_too_complex(response, "3 aliases", "maximum is 2")


async def test_directives_over_the_limit_are_refused(client_factory: AppFactory):
    client = client_factory(query_max_directives=1)
    query = "{ me @include(if: true) { id } node(id: $id) @include(if: true) { id } }"
    response = await graphql(client, f"query($id: ID!) {query}", {"id": MISSING_USER_ID})
    assert_too_complex(response, "2 directives", "maximum is 1")


# 20 tokens: braces, names and the alias colon each count one.
TWENTY_TOKENS = (
    "{ me { id name role status email balance createdAt updatedAt } me2: me { id name } }"
)


async def test_tokens_over_the_limit_are_refused(client_factory: AppFactory):
    client = client_factory(query_max_tokens=20)
    response = await graphql(client, TWENTY_TOKENS.replace("id name }", "id name role }"))
    assert_too_complex(response, "tokens", "20")


async def test_tokens_at_the_limit_are_allowed(client_factory: AppFactory):
    client = client_factory(query_max_tokens=20)
    response = await graphql(client, TWENTY_TOKENS)
    assert response.status_code == 200, response.text


async def test_operations_over_the_limit_are_refused(client_factory: AppFactory):
    client = client_factory(query_max_operations=1)
    document = "query First { me { id } } query Second { me { name } }"
    response = await graphql(client, document, operation_name="First")
    assert_too_complex(response, "2 operations", "maximum is 1")


# --- cost limit ---------------------------------------------------------------------------


async def test_cost_over_the_maximum_is_refused_before_execution(client_factory: AppFactory):
    user = await create_user()
    client = client_factory(query_max_cost=1, rate_limit_capacity=10)
    query = "query($id: ID!) { me { id } node(id: $id) { id } }"
    with sql_statements() as statements:
        response = await graphql(client, query, {"id": to_global_id("User", user.id)})
    body = assert_too_complex(response, "2", "maximum of 1")
    assert statements == []  # the node resolver never ran
    [error] = body["errors"]
    assert error["extensions"]["requestedQueryCost"] == 2
    assert error["extensions"]["maximumQueryCost"] == 1
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 2
    assert cost["actualQueryCost"] == 0
    assert cost["throttleStatus"]["currentlyAvailable"] == 10  # nothing was charged


async def test_cost_at_the_maximum_is_executed(client_factory: AppFactory):
    user = await create_user()
    client = client_factory(query_max_cost=2)
    global_id = to_global_id("User", user.id)
    with sql_statements() as statements:
        response = await graphql(client, nodes_query(2), {"id": global_id})
    assert response.status_code == 200
    assert response.json()["data"] == {"n0": {"id": global_id}, "n1": {"id": global_id}}
    assert statements  # the resolvers ran
    assert cost_of(response)["requestedQueryCost"] == 2


# --- the cost budget ----------------------------------------------------------------------


async def test_exhausted_budget_answers_429_with_retry_after(client_factory: AppFactory):
    user = await create_user()
    client = client_factory(rate_limit_capacity=5, rate_limit_restore_rate=0.5, query_max_cost=5)
    variables = {"id": to_global_id("User", user.id)}
    for _ in range(10):
        response = await graphql(client, nodes_query(2), variables)
        if response.status_code != 200:
            break
        assert cost_of(response)["actualQueryCost"] == 2
    assert response.status_code == 429, response.text
    retry_after = response.headers["Retry-After"]
    assert retry_after.isdigit()
    assert int(retry_after) > 0
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["retryAfter"] == int(retry_after)
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] < 2


async def test_budget_refills_at_the_restore_rate(client_factory: AppFactory):
    user = await create_user()
    capacity, rate = 4, 50.0
    client = client_factory(
        rate_limit_capacity=capacity, rate_limit_restore_rate=rate, query_max_cost=capacity
    )
    variables = {"id": to_global_id("User", user.id)}
    for _ in range(20):
        response = await graphql(client, nodes_query(capacity), variables)
        if response.status_code == 429:
            break
    assert response.status_code == 429, response.text
    await asyncio.sleep(capacity / rate + 0.05)  # long enough to refill a whole bucket
    response = await graphql(client, nodes_query(capacity), variables)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["n0"] == {"id": variables["id"]}


async def test_null_result_is_charged_only_the_minimum(client_factory: AppFactory):
    """A lookup that finds nothing costs the minimum of 1, so misses are never free."""
    capacity = 100
    client = client_factory(rate_limit_capacity=capacity, rate_limit_restore_rate=0.001)
    query = "query($id: ID!) { node(id: $id) { id ... on User { name } } }"
    response = await graphql(client, query, {"id": MISSING_USER_ID})
    assert response.status_code == 200
    assert response.json()["data"] == {"node": None}
    cost = cost_of(response)
    assert cost["requestedQueryCost"] == 1
    assert cost["actualQueryCost"] == 1
    assert cost["throttleStatus"]["currentlyAvailable"] == capacity - 1


async def test_partial_result_is_charged_its_actual_cost(client_factory: AppFactory):
    user = await create_user()
    capacity = 100
    client = client_factory(rate_limit_capacity=capacity, rate_limit_restore_rate=0.001)
    query = (
        "query($found: ID!, $missing: ID!) {"
        " found: node(id: $found) { id ... on User { name } }"
        " missing: node(id: $missing) { id ... on User { name } } }"
    )
    variables = {"found": to_global_id("User", user.id), "missing": MISSING_USER_ID}
    response = await graphql(client, query, variables)
    assert response.status_code == 200
    assert response.json()["data"]["missing"] is None
    cost = cost_of(response)
    assert cost["requestedQueryCost"] == 2
    assert cost["actualQueryCost"] == 1
    assert cost["actualQueryCost"] < cost["requestedQueryCost"]
    assert cost["throttleStatus"]["currentlyAvailable"] == capacity - 1
    # the next response reports the budget after its own minimum charge of 1
    second = await graphql(client, "{ __typename }")
    assert cost_of(second)["throttleStatus"]["currentlyAvailable"] == capacity - 2


# --- extensions.cost on every response ----------------------------------------------------


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("{ me { id } }", 200),
        ("{ nope }", 400),  # validation error
        ("{ me { id }", 400),  # syntax error
    ],
    ids=["success", "validation-error", "syntax-error"],
)
async def test_every_response_reports_its_cost(client_factory: AppFactory, query, status):
    client = client_factory(rate_limit_capacity=1000, rate_limit_restore_rate=2.5)
    response = await graphql(client, query)
    assert response.status_code == status
    cost = cost_of(response)
    assert set(cost) == COST_FIELDS
    assert set(cost["throttleStatus"]) == THROTTLE_FIELDS
    assert cost["throttleStatus"]["maximumAvailable"] == 1000
    # executed operations pay at least the minimum of 1; refused documents pay nothing
    assert cost["throttleStatus"]["currentlyAvailable"] == (999 if status == 200 else 1000)
    assert cost["throttleStatus"]["restoreRate"] == 2.5


async def test_document_limit_response_reports_its_cost(client_factory: AppFactory):
    client = client_factory(query_max_depth=1)
    response = await graphql(client, "{ me { id } }")
    assert response.status_code == 400
    cost = cost_of(response)
    assert set(cost) == COST_FIELDS
    assert set(cost["throttleStatus"]) == THROTTLE_FIELDS


async def test_rate_limited_response_reports_its_cost(client_factory: AppFactory):
    user = await create_user()
    client = client_factory(rate_limit_capacity=2, rate_limit_restore_rate=0.001, query_max_cost=2)
    variables = {"id": to_global_id("User", user.id)}
    assert (await graphql(client, nodes_query(2), variables)).status_code == 200
    response = await graphql(client, nodes_query(2), variables)
    assert response.status_code == 429
    cost = cost_of(response)
    assert set(cost) == COST_FIELDS
    assert cost["requestedQueryCost"] == 2
    assert cost["throttleStatus"]["currentlyAvailable"] == 0


# --- buckets per client -------------------------------------------------------------------


@pytest.fixture
async def clients_by_ip(db: None) -> AsyncIterator[Callable[[str], httpx.AsyncClient]]:
    """Clients of one app (one bucket store) that connect from different IP addresses."""
    settings = make_settings(rate_limit_capacity=2, rate_limit_restore_rate=0.001, query_max_cost=2)
    container = Container.from_settings(settings, key_prefix=f"test:{uuid.uuid4().hex}:")
    app = create_app(settings, manage_database=False, container=container)
    opened: list[httpx.AsyncClient] = []

    def connect(ip: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(ip, 40000)),
            base_url="http://testserver",
        )
        opened.append(client)
        return client

    yield connect
    for client in opened:
        await client.aclose()
    await container.close()


async def test_anonymous_clients_have_a_bucket_per_ip(
    clients_by_ip: Callable[[str], httpx.AsyncClient],
):
    user = await create_user()
    variables = {"id": to_global_id("User", user.id)}
    first = clients_by_ip("198.51.100.1")
    second = clients_by_ip("198.51.100.2")
    assert (await graphql(first, nodes_query(2), variables)).status_code == 200
    assert (await graphql(first, nodes_query(2), variables)).status_code == 429
    other = await graphql(second, nodes_query(2), variables)
    assert other.status_code == 200
    assert cost_of(other)["throttleStatus"]["currentlyAvailable"] == 0


async def test_same_ip_shares_its_bucket_across_connections(
    clients_by_ip: Callable[[str], httpx.AsyncClient],
):
    user = await create_user()
    variables = {"id": to_global_id("User", user.id)}
    assert (await graphql(clients_by_ip("198.51.100.7"), nodes_query(2), variables)).is_success
    again = await graphql(clients_by_ip("198.51.100.7"), nodes_query(2), variables)
    assert again.status_code == 429


# --- the Redis bucket store ---------------------------------------------------------------


@pytest.fixture
async def redis_stores() -> AsyncIterator[tuple[RedisBucketStore, RedisBucketStore]]:
    """Two stores over two Redis clients with one prefix: two replicas of the server."""
    assert REDIS_URL is not None
    prefix = f"test:{uuid.uuid4().hex}:bucket:"
    first, second = Redis.from_url(REDIS_URL), Redis.from_url(REDIS_URL)
    yield RedisBucketStore(first, prefix=prefix), RedisBucketStore(second, prefix=prefix)
    keys = [key async for key in first.scan_iter(match=f"{prefix}*")]
    if keys:
        await first.delete(*keys)
    await first.aclose()
    await second.aclose()


def redis_fallbacks() -> float:
    value = REGISTRY.get_sample_value(
        "dependency_failures_total", {"dependency": "redis", "operation": "rate_limit"}
    )
    return value or 0.0


@requires_redis
async def test_redis_replicas_share_one_bucket(
    redis_stores: tuple[RedisBucketStore, RedisBucketStore],
):
    one, two = redis_stores
    policy = BucketPolicy(capacity=10, restore_rate=0.001)
    failures = redis_fallbacks()
    assert (await one.take("cost:ip:1", 7, policy)).allowed
    seen = await two.peek("cost:ip:1", policy)
    assert seen.available == pytest.approx(3, abs=0.01)
    refused = await two.take("cost:ip:1", 4, policy)
    assert not refused.allowed
    assert refused.available == pytest.approx(3, abs=0.01)  # never partial
    assert (await two.take("cost:ip:1", 3, policy)).allowed
    assert not (await one.take("cost:ip:1", 1, policy)).allowed
    assert redis_fallbacks() == failures  # Redis answered every call


@requires_redis
async def test_redis_take_is_atomic_under_concurrency(
    redis_stores: tuple[RedisBucketStore, RedisBucketStore],
):
    one, two = redis_stores
    policy = BucketPolicy(capacity=10, restore_rate=0.001)
    states = await asyncio.gather(
        *((one if index % 2 else two).take("cost:ip:burst", 1, policy) for index in range(50))
    )
    assert sum(state.allowed for state in states) == 10
    assert (await one.peek("cost:ip:burst", policy)).available < 1


@requires_redis
async def test_redis_give_back_is_capped_at_capacity(
    redis_stores: tuple[RedisBucketStore, RedisBucketStore],
):
    one, two = redis_stores
    policy = BucketPolicy(capacity=10, restore_rate=0.001)
    await one.take("cost:ip:refund", 3, policy)
    back = await two.give_back("cost:ip:refund", 2, policy)
    assert back.available == pytest.approx(9, abs=0.01)
    capped = await two.give_back("cost:ip:refund", 100, policy)
    assert capped.available == 10
    assert (await one.peek("cost:ip:refund", policy)).available == 10


@requires_redis
async def test_redis_bucket_refills(redis_stores: tuple[RedisBucketStore, RedisBucketStore]):
    one, two = redis_stores
    policy = BucketPolicy(capacity=5, restore_rate=100.0)
    assert (await one.take("cost:ip:refill", 5, policy)).allowed
    await asyncio.sleep(0.08)
    assert (await two.take("cost:ip:refill", 5, policy)).allowed


async def test_unreachable_redis_falls_back_to_the_process():
    redis = Redis.from_url("redis://127.0.0.1:1", socket_connect_timeout=0.2)
    store = RedisBucketStore(redis, prefix=f"test:{uuid.uuid4().hex}:bucket:")
    policy = BucketPolicy(capacity=3, restore_rate=0.001)
    failures = redis_fallbacks()
    try:
        taken = await store.take("cost:ip:down", 2, policy)
        assert taken.allowed
        assert taken.available == pytest.approx(1, abs=0.01)
        refused = await store.take("cost:ip:down", 2, policy)  # the fallback keeps state
        assert not refused.allowed
        assert refused.retry_after > 0
        back = await store.give_back("cost:ip:down", 10, policy)
        assert back.available == 3
        assert (await store.peek("cost:ip:down", policy)).available == 3
    finally:
        await redis.aclose()
    assert redis_fallbacks() == failures + 4
