"""Hot reads come from the cache; every mutation that changes them invalidates it; a broken
cache never fails a request."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from core.metrics import REGISTRY
from models.catalogue import Product
from models.user import Role, User, UserStatus
from services.cache import ModelCache, model_row, rebuild_model
from tests.conftest import AppFactory, data, graphql, make_settings
from vocabulary.relay import to_global_id

PASSWORD = "Sup3r-secret!"
PRODUCT = "query($id: ID!) { product(id: $id) { name price stock } }"
PRODUCTS = "{ products(first: 10) { nodes { name price } } }"


async def make_admin(client: httpx.AsyncClient) -> dict[str, str]:
    await User.create(
        name="Ada Admin",
        email="admin@example.com",
        password_hash=client.container.passwords.hash(PASSWORD),  # type: ignore[attr-defined]
        role=Role.ADMIN,
        status=UserStatus.ACTIVE,
        balance_cents=100_000,
    )
    response = await graphql(
        client,
        'mutation($p: String!) { login(email: "admin@example.com", password: $p) { accessToken } }',
        {"p": PASSWORD},
    )
    return {"Authorization": f"Bearer {response.json()['data']['login']['accessToken']}"}


async def make_product(seller_email: str = "admin@example.com", **values: Any) -> Product:
    seller = await User.get(email=seller_email)
    fields: dict[str, Any] = {
        "name": "Lamp",
        "description": "A lamp",
        "price_cents": 1250,
        "stock": 5,
    }
    fields.update(values)
    return await Product.create(seller=seller, **fields)


def lookups(kind: str, result: str) -> float:
    value = REGISTRY.get_sample_value("cache_lookups_total", {"kind": kind, "result": result})
    return value or 0.0


async def test_a_product_read_twice_is_served_from_the_cache(client, sql_statements):
    await make_admin(client)
    product = await make_product()
    variables = {"id": to_global_id("Product", product.id)}
    first = data(await graphql(client, PRODUCT, variables))
    sql_statements.reset()
    hits_before = lookups("products", "hit")
    second = data(await graphql(client, PRODUCT, variables))
    assert second == first
    assert sql_statements.count == 0
    assert lookups("products", "hit") == hits_before + 1


async def test_updating_a_product_invalidates_its_cached_copy(client):
    headers = await make_admin(client)
    product = await make_product()
    variables = {"id": to_global_id("Product", product.id)}
    data(await graphql(client, PRODUCT, variables))
    data(
        await graphql(
            client,
            'mutation($id: ID!) { updateProduct(id: $id, input: {name: "Desk lamp"}) { id } }',
            variables,
            headers,
        )
    )
    assert data(await graphql(client, PRODUCT, variables))["product"]["name"] == "Desk lamp"


async def test_an_order_invalidates_the_stock_of_its_products(client):
    headers = await make_admin(client)
    product = await make_product()
    variables = {"id": to_global_id("Product", product.id)}
    assert data(await graphql(client, PRODUCT, variables))["product"]["stock"] == 5
    data(
        await graphql(
            client,
            "mutation($id: ID!) { placeOrder(input: {items: [{productId: $id, quantity: 2}],"
            ' idempotencyKey: "k1"}) { id } }',
            variables,
            headers,
        )
    )
    assert data(await graphql(client, PRODUCT, variables))["product"]["stock"] == 3


async def test_the_anonymous_first_page_is_cached_until_a_product_changes(client, sql_statements):
    headers = await make_admin(client)
    await make_product(name="Lamp")
    assert [p["name"] for p in data(await graphql(client, PRODUCTS))["products"]["nodes"]] == [
        "Lamp"
    ]
    sql_statements.reset()
    data(await graphql(client, PRODUCTS))
    assert sql_statements.count == 0
    data(
        await graphql(
            client,
            'mutation { createProduct(input: {name: "Chair", description: "Oak",'
            ' price: "40.00", stock: 1}) { id } }',
            headers=headers,
        )
    )
    names = [p["name"] for p in data(await graphql(client, PRODUCTS))["products"]["nodes"]]
    assert names == ["Chair", "Lamp"]


async def test_a_renamed_author_is_not_served_stale(client):
    headers = await make_admin(client)
    post_query = "{ posts(first: 5) { nodes { author { name } } } }"
    data(
        await graphql(
            client,
            'mutation { createPost(input: {title: "Hi", body: "There", publish: true}) { id } }',
            headers=headers,
        )
    )
    assert data(await graphql(client, post_query))["posts"]["nodes"][0]["author"]["name"] == (
        "Ada Admin"
    )
    data(
        await graphql(
            client, 'mutation { updateProfile(input: {name: "Ada L."}) { name } }', headers=headers
        )
    )
    assert data(await graphql(client, post_query))["posts"]["nodes"][0]["author"]["name"] == (
        "Ada L."
    )


async def test_a_balance_change_is_not_served_stale(client):
    headers = await make_admin(client)
    me = "{ me { balance } }"
    admin = await User.get(email="admin@example.com")
    user_query = "query($id: ID!) { user(id: $id) { balance } }"
    variables = {"id": to_global_id("User", admin.id)}
    assert data(await graphql(client, user_query, variables, headers))["user"]["balance"] == (
        "1000.00"
    )
    data(
        await graphql(
            client,
            'mutation($id: ID!) { depositFunds(userId: $id, amount: "5.50") { id } }',
            variables,
            headers,
        )
    )
    assert data(await graphql(client, me, headers=headers))["me"]["balance"] == "1005.50"
    assert data(await graphql(client, user_query, variables, headers))["user"]["balance"] == (
        "1005.50"
    )
    assert Decimal("1005.50") == Decimal((await User.get(id=admin.id)).balance_cents) / 100


async def test_an_unreachable_cache_never_fails_a_request(client_factory: AppFactory):
    client = client_factory(redis_url="redis://127.0.0.1:1", job_backend="inprocess")
    failures_before = REGISTRY.get_sample_value(
        "dependency_failures_total", {"dependency": "cache", "operation": "get"}
    )
    await make_admin(client)
    product = await make_product()
    result = data(await graphql(client, PRODUCT, {"id": to_global_id("Product", product.id)}))
    assert result["product"]["name"] == "Lamp"
    assert data(await graphql(client, PRODUCTS))["products"]["nodes"][0]["name"] == "Lamp"
    failures_after = REGISTRY.get_sample_value(
        "dependency_failures_total", {"dependency": "cache", "operation": "get"}
    )
    assert (failures_after or 0) > (failures_before or 0)


async def test_a_model_rebuilt_from_its_cached_row_is_the_one_the_database_gives():
    seller = await User.create(
        name="Sam", email="sam@example.com", password_hash="x", status=UserStatus.ACTIVE
    )
    product = await make_product(seller_email="sam@example.com")
    for model_class, pk in ((User, seller.id), (Product, product.id)):
        from_db = await model_class.get(id=pk)
        rebuilt = rebuild_model(model_class, model_row(from_db))

        assert rebuilt.__dict__ == from_db.__dict__
        rebuilt.name = "Renamed"
        await rebuilt.save(update_fields=["name"])
        assert (await model_class.get(id=pk)).name == "Renamed"


async def test_a_model_loaded_on_a_miss_is_the_one_the_database_gives(db):
    seller = await User.create(
        name="Kim", email="kim@example.com", password_hash="x", status=UserStatus.ACTIVE
    )
    product = await make_product(seller_email="kim@example.com")
    cache = ModelCache.from_settings(make_settings())
    for kind, model_class, pk in (("users", User, seller.id), ("products", Product, product.id)):
        # A shared Redis may hold this key from another test's database: a miss first.
        await cache.forget(kind, [pk])
        (loaded,) = await cache.models_by_id(kind, model_class, [pk])
        (cached,) = await cache.models_by_id(kind, model_class, [pk])
        from_db = await model_class.get(id=pk)

        assert loaded is not None
        assert cached is not None
        assert loaded.__dict__ == from_db.__dict__
        assert cached.__dict__ == from_db.__dict__


async def test_every_cache_hit_gives_a_fresh_instance(db, monkeypatch):
    monkeypatch.setattr("core.shortcuts.enabled", True)
    seller = await User.create(
        name="Lee", email="lee@example.com", password_hash="x", status=UserStatus.ACTIVE
    )
    cache = ModelCache.from_settings(make_settings(redis_url=None))
    await cache.models_by_id("users", User, [seller.id])

    first = (await cache.get_models("users", User, [seller.id]))[seller.id]
    second = (await cache.get_models("users", User, [seller.id]))[seller.id]

    assert first is not second
    assert first.__dict__ is not second.__dict__
    assert first._await_when_save is not second._await_when_save


async def test_the_stock_cache_read_gives_the_same_models_and_counts(db, monkeypatch):
    seller = await User.create(
        name="Max", email="max@example.com", password_hash="x", status=UserStatus.ACTIVE
    )
    cache = ModelCache.from_settings(make_settings(redis_url=None))
    await cache.models_by_id("users", User, [seller.id])
    answers = []
    for enabled in (True, False):
        monkeypatch.setattr("core.shortcuts.enabled", enabled)
        hits, misses = lookups("users", "hit"), lookups("users", "miss")
        models = await cache.get_models("users", User, [seller.id, seller.id + 1000])
        counts = (lookups("users", "hit") - hits, lookups("users", "miss") - misses)
        answers.append(({pk: model.__dict__ for pk, model in models.items()}, counts))

    assert answers[0] == answers[1]
    assert answers[0][1] == (1, 1)


async def test_the_stock_cache_read_is_multi_get(db, monkeypatch):
    monkeypatch.setattr("core.shortcuts.enabled", False)
    cache = ModelCache.from_settings(make_settings(redis_url=None))
    calls: list[list[str]] = []
    stock_multi_get = cache.backend.multi_get

    async def counted(keys: list[str]) -> list[Any]:
        calls.append(keys)
        values: list[Any] = await stock_multi_get(keys)
        return values

    monkeypatch.setattr(cache.backend, "multi_get", counted)
    await cache.get_models("users", User, [1, 2])

    assert calls == [["users:1", "users:2"]]
