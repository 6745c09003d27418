"""The catalogue: createProduct/updateProduct/archiveProduct need WRITE_PRODUCTS (admins),
validation reports every field at once, prices are Decimal strings with two decimals; the
``products`` list filters (search, price range, stock, seller, status) and orders by price,
name and creation time in both directions.

Lists are read by a signed-in shopper unless a test is about anonymous callers: their first
pages may come from the cache, which rows created directly in the database do not update."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from models.catalogue import Product, ProductStatus
from models.user import Role, User
from tests import factories
from tests.conftest import call, data_of, error_of

CREATE = """
mutation($input: CreateProductInput!) {
  createProduct(input: $input) { id name description price stock status seller { name } }
}
"""
UPDATE = """
mutation($id: ID!, $input: UpdateProductInput!) {
  updateProduct(id: $id, input: $input) { id name description price stock status }
}
"""
ARCHIVE = "mutation($id: ID!) { archiveProduct(id: $id) { id status } }"
PRODUCTS = """
query($filter: ProductFilter, $orderBy: ProductOrderField, $direction: OrderDirection) {
  products(first: 50, filter: $filter, orderBy: $orderBy, direction: $direction) {
    totalCount
    nodes { name price stock status }
  }
}
"""


def product_input(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Teapot",
        "description": "Holds tea.",
        "price": "12.50",
        "stock": 3,
        **overrides,
    }


@pytest.fixture
async def admin(db: None) -> User:
    return await factories.create_user(name="Admin", role=Role.ADMIN)


@pytest.fixture
async def shopper(db: None) -> User:
    return await factories.create_user(name="Shopper")


# --- mutations and WRITE_PRODUCTS ---------------------------------------------------------


async def test_an_admin_creates_a_product_they_sell(client: httpx.AsyncClient, admin: User) -> None:
    created = data_of(await call(client, admin, CREATE, {"input": product_input()}))
    assert created["createProduct"] | {"id": None} == {
        "id": None,
        "name": "Teapot",
        "description": "Holds tea.",
        "price": "12.50",
        "stock": 3,
        "status": "ACTIVE",
        "seller": {"name": "Admin"},
    }
    stored = await Product.get(seller_id=admin.id)
    assert stored.price_cents == 1250


@pytest.mark.parametrize(
    ("price", "shown", "cents"),
    [("12.5", "12.50", 1250), ("7", "7.00", 700), ("0.01", "0.01", 1), (19.99, "19.99", 1999)],
)
async def test_prices_are_stored_in_cents_and_shown_with_two_decimals(
    client: httpx.AsyncClient, admin: User, price: Any, shown: str, cents: int
) -> None:
    created = data_of(await call(client, admin, CREATE, {"input": product_input(price=price)}))
    assert created["createProduct"]["price"] == shown
    assert (await Product.get(seller_id=admin.id)).price_cents == cents


@pytest.mark.parametrize("role", [Role.USER, Role.MODERATOR])
async def test_product_mutations_are_forbidden_without_write_products(
    client: httpx.AsyncClient, admin: User, role: Role
) -> None:
    caller = await factories.create_user(role=role)
    product = await factories.create_product(admin, name="Kept", price_cents=500)
    product_id = factories.gid("Product", product.id)
    attempts: list[tuple[str, dict[str, Any]]] = [
        (CREATE, {"input": product_input()}),
        (UPDATE, {"id": product_id, "input": {"name": "Changed"}}),
        (ARCHIVE, {"id": product_id}),
    ]
    for mutation, variables in attempts:
        error = error_of(await call(client, caller, mutation, variables))
        assert error["extensions"]["code"] == "FORBIDDEN"
    stored = await Product.get(id=product.id)
    assert (stored.name, stored.status) == ("Kept", ProductStatus.ACTIVE)
    assert await Product.all().count() == 1


async def test_product_mutations_need_a_signed_in_caller(
    client: httpx.AsyncClient, admin: User
) -> None:
    product = await factories.create_product(admin)
    product_id = factories.gid("Product", product.id)
    attempts: list[tuple[str, dict[str, Any]]] = [
        (CREATE, {"input": product_input()}),
        (UPDATE, {"id": product_id, "input": {"name": "Changed"}}),
        (ARCHIVE, {"id": product_id}),
    ]
    for mutation, variables in attempts:
        body = await call(client, None, mutation, variables)
        assert error_of(body)["extensions"]["code"] == "UNAUTHENTICATED"


async def test_create_product_reports_every_invalid_field_at_once(
    client: httpx.AsyncClient, admin: User
) -> None:
    variables = {"input": product_input(name="x", price="0", stock=-1)}
    error = error_of(await call(client, admin, CREATE, variables))
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    fields = sorted(detail["field"] for detail in error["extensions"]["details"])
    assert fields == ["input.name", "input.price", "input.stock"]
    assert await Product.all().count() == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "x"}, "input.name"),
        ({"name": "<b></b>x"}, "input.name"),
        ({"name": "n" * 121}, "input.name"),
        ({"price": "0"}, "input.price"),
        ({"price": "-5.00"}, "input.price"),
        ({"price": "12.345"}, "input.price"),
        ({"stock": -1}, "input.stock"),
        ({"stock": 1_000_001}, "input.stock"),
    ],
    ids=[
        "name-1",
        "name-1-after-sanitising",
        "name-121",
        "price-0",
        "price-negative",
        "price-3-decimals",
        "stock-negative",
        "stock-over-a-million",
    ],
)
async def test_create_product_refuses_one_invalid_field(
    client: httpx.AsyncClient, admin: User, overrides: dict[str, Any], field: str
) -> None:
    error = error_of(await call(client, admin, CREATE, {"input": product_input(**overrides)}))
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert [detail["field"] for detail in error["extensions"]["details"]] == [field]


async def test_create_product_accepts_the_limits(client: httpx.AsyncClient, admin: User) -> None:
    for overrides in (
        {"name": "ab", "stock": 0, "price": "0.01"},
        {"name": "n" * 120, "stock": 1_000_000, "price": "999.99"},
    ):
        body = await call(client, admin, CREATE, {"input": product_input(**overrides)})
        created = data_of(body)["createProduct"]
        assert (created["name"], created["stock"], created["price"]) == (
            overrides["name"],
            overrides["stock"],
            overrides["price"],
        )


async def test_an_admin_updates_only_the_given_fields(
    client: httpx.AsyncClient, admin: User
) -> None:
    product = await factories.create_product(
        admin, name="Teapot", description="Old", price_cents=1000, stock=1
    )
    variables = {
        "id": factories.gid("Product", product.id),
        "input": {"price": "8.5", "stock": 0},
    }
    updated = data_of(await call(client, admin, UPDATE, variables))["updateProduct"]
    assert (updated["name"], updated["description"]) == ("Teapot", "Old")
    assert (updated["price"], updated["stock"]) == ("8.50", 0)
    stored = await Product.get(id=product.id)
    assert (stored.price_cents, stored.stock) == (850, 0)


async def test_update_product_reports_every_invalid_field_at_once(
    client: httpx.AsyncClient, admin: User
) -> None:
    product = await factories.create_product(admin, name="Kept", price_cents=1000)
    variables = {
        "id": factories.gid("Product", product.id),
        "input": {"name": "", "price": "1.001", "stock": 1_000_001},
    }
    error = error_of(await call(client, admin, UPDATE, variables))
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    fields = sorted(detail["field"] for detail in error["extensions"]["details"])
    assert fields == ["input.name", "input.price", "input.stock"]
    stored = await Product.get(id=product.id)
    assert (stored.name, stored.price_cents) == ("Kept", 1000)


async def test_updating_a_missing_product_is_not_found(
    client: httpx.AsyncClient, admin: User
) -> None:
    variables = {"id": factories.gid("Product", 999_999), "input": {"name": "Ghost"}}
    assert error_of(await call(client, admin, UPDATE, variables))["extensions"]["code"] == (
        "NOT_FOUND"
    )


async def test_archiving_takes_a_product_off_the_default_list(
    client: httpx.AsyncClient, admin: User, shopper: User
) -> None:
    product = await factories.create_product(admin, name="Old stock")
    await factories.create_product(admin, name="Fresh")
    product_id = factories.gid("Product", product.id)

    archived = data_of(await call(client, admin, ARCHIVE, {"id": product_id}))
    assert archived["archiveProduct"] == {"id": product_id, "status": "ARCHIVED"}
    again = data_of(await call(client, admin, ARCHIVE, {"id": product_id}))
    assert again["archiveProduct"]["status"] == "ARCHIVED"
    assert await names(client, shopper) == ["Fresh"]
    assert await names(client, shopper, {"status": "ARCHIVED"}) == ["Old stock"]


# --- the products list --------------------------------------------------------------------


async def names(
    client: httpx.AsyncClient,
    viewer: User | None,
    filter: dict[str, Any] | None = None,
    order_by: str | None = None,
    direction: str | None = None,
) -> list[str]:
    variables = {"filter": filter, "orderBy": order_by, "direction": direction}
    page = data_of(await call(client, viewer, PRODUCTS, variables))["products"]
    assert page["totalCount"] == len(page["nodes"])
    return [node["name"] for node in page["nodes"]]


@pytest.fixture
async def shelf(admin: User) -> dict[str, User]:
    """Six products of two sellers; created one minute apart in the order listed."""
    ann = await factories.create_user(name="Ann")
    bob = await factories.create_user(name="Bob")
    start = datetime(2024, 3, 1, tzinfo=UTC)
    rows = [
        (ann, "Blue kettle", "Boils water fast", 2500, 4, ProductStatus.ACTIVE),
        (ann, "Mug", "A KETTLE's best friend", 800, 0, ProductStatus.ACTIVE),
        (bob, "Anvil", "Heavy", 15000, 1, ProductStatus.ACTIVE),
        (bob, "Teapot", "Porcelain", 2500, 12, ProductStatus.ACTIVE),
        (bob, "Cup", "Small", 350, 30, ProductStatus.ACTIVE),
        (ann, "Old kettle", "Discontinued", 1000, 2, ProductStatus.ARCHIVED),
    ]
    for minute, (seller, name, description, cents, stock, status) in enumerate(rows):
        await factories.create_product(
            seller,
            name=name,
            description=description,
            price_cents=cents,
            stock=stock,
            status=status,
            created_at=start + timedelta(minutes=minute),
        )
    return {"ann": ann, "bob": bob}


async def test_the_default_list_is_active_products_newest_first(
    client: httpx.AsyncClient, shopper: User, shelf: dict[str, User]
) -> None:
    assert await names(client, shopper) == ["Cup", "Teapot", "Anvil", "Mug", "Blue kettle"]


async def test_anonymous_callers_see_the_same_list(
    client: httpx.AsyncClient, shelf: dict[str, User]
) -> None:
    assert await names(client, None) == ["Cup", "Teapot", "Anvil", "Mug", "Blue kettle"]


async def test_search_matches_name_or_description_case_insensitively(
    client: httpx.AsyncClient, shopper: User, shelf: dict[str, User]
) -> None:
    assert await names(client, shopper, {"search": "kettle"}) == ["Mug", "Blue kettle"]
    assert await names(client, shopper, {"search": "  PORCELAIN "}) == ["Teapot"]
    assert await names(client, shopper, {"search": "nothing like it"}) == []


async def test_price_bounds_are_inclusive(
    client: httpx.AsyncClient, shopper: User, shelf: dict[str, User]
) -> None:
    assert await names(client, shopper, {"minPrice": "25.00"}) == [
        "Teapot",
        "Anvil",
        "Blue kettle",
    ]
    assert await names(client, shopper, {"maxPrice": "8"}) == ["Cup", "Mug"]
    assert await names(client, shopper, {"minPrice": "8.00", "maxPrice": "25"}) == [
        "Teapot",
        "Mug",
        "Blue kettle",
    ]
    assert await names(client, shopper, {"minPrice": "8.01", "maxPrice": "24.99"}) == []


async def test_a_negative_price_bound_is_bad_user_input(
    client: httpx.AsyncClient, shopper: User
) -> None:
    body = await call(client, shopper, PRODUCTS, {"filter": {"minPrice": "-1"}})
    assert error_of(body)["extensions"]["code"] == "BAD_USER_INPUT"


async def test_in_stock_filter(
    client: httpx.AsyncClient, shopper: User, shelf: dict[str, User]
) -> None:
    assert await names(client, shopper, {"inStock": True}) == [
        "Cup",
        "Teapot",
        "Anvil",
        "Blue kettle",
    ]
    assert await names(client, shopper, {"inStock": False}) == ["Mug"]


async def test_seller_filter(
    client: httpx.AsyncClient, shopper: User, shelf: dict[str, User]
) -> None:
    ann = factories.gid("User", shelf["ann"].id)
    assert await names(client, shopper, {"sellerId": ann}) == ["Mug", "Blue kettle"]
    assert await names(client, shopper, {"sellerId": ann, "status": "ARCHIVED"}) == ["Old kettle"]


async def test_status_filter_lists_archived_products(
    client: httpx.AsyncClient, shopper: User, shelf: dict[str, User]
) -> None:
    assert await names(client, shopper, {"status": "ARCHIVED"}) == ["Old kettle"]
    archived = data_of(await call(client, shopper, PRODUCTS, {"filter": {"status": "ARCHIVED"}}))
    assert archived["products"]["nodes"][0]["status"] == "ARCHIVED"


@pytest.mark.parametrize(
    ("order_by", "direction", "expected"),
    [
        # Equal prices (Blue kettle, Teapot at 25.00) fall back on the id, in the same direction.
        ("PRICE", "ASC", ["Cup", "Mug", "Blue kettle", "Teapot", "Anvil"]),
        ("PRICE", "DESC", ["Anvil", "Teapot", "Blue kettle", "Mug", "Cup"]),
        ("NAME", "ASC", ["Anvil", "Blue kettle", "Cup", "Mug", "Teapot"]),
        ("NAME", "DESC", ["Teapot", "Mug", "Cup", "Blue kettle", "Anvil"]),
        ("CREATED_AT", "ASC", ["Blue kettle", "Mug", "Anvil", "Teapot", "Cup"]),
        ("CREATED_AT", "DESC", ["Cup", "Teapot", "Anvil", "Mug", "Blue kettle"]),
    ],
)
async def test_orderings_in_both_directions(
    client: httpx.AsyncClient,
    shopper: User,
    shelf: dict[str, User],
    order_by: str,
    direction: str,
    expected: list[str],
) -> None:
    assert await names(client, shopper, None, order_by, direction) == expected


async def test_filters_combine_with_an_ordering(
    client: httpx.AsyncClient, shopper: User, shelf: dict[str, User]
) -> None:
    filter = {"inStock": True, "maxPrice": "30", "sellerId": factories.gid("User", shelf["bob"].id)}
    assert await names(client, shopper, filter, "PRICE", "DESC") == ["Teapot", "Cup"]
