"""topCustomers: buyers ranked by money spent on COMPLETED orders (READ_STATS only),
compared with a hand computation over the same orders; `since` and `limit`; ties (more
orders first, then the earlier account); one SQL aggregate plus one batch of users."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from models.catalogue import Product
from models.orders import OrderStatus
from models.user import Role, User
from tests import factories
from tests.conftest import AppFactory, StatementCounter, data, graphql

TOP_CUSTOMERS = """
query($limit: Int, $since: DateTime) {
  topCustomers(limit: $limit, since: $since) { user { id name } totalOrders totalAmount }
}
"""
START = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Placed:
    buyer: User
    status: OrderStatus
    total_cents: int
    created_at: datetime


def error_code(response: httpx.Response) -> str:
    errors = response.json()["errors"]
    assert len(errors) == 1, errors
    return errors[0]["extensions"]["code"]  # type: ignore[no-any-return]


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def by_hand(
    placed: list[Placed], *, limit: int = 10, since: datetime | None = None
) -> list[dict[str, Any]]:
    """The contract, computed in Python: COMPLETED orders only (from `since` on), per
    buyer the count and the sum, most money first, then more orders, then lower id."""
    counted: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    buyers: dict[int, User] = {}
    for order in placed:
        if order.status is not OrderStatus.COMPLETED:
            continue
        if since is not None and order.created_at < since:
            continue
        buyers[order.buyer.id] = order.buyer
        counted[order.buyer.id][0] += 1
        counted[order.buyer.id][1] += order.total_cents
    ranked = sorted(counted.items(), key=lambda item: (-item[1][1], -item[1][0], item[0]))
    return [
        {
            "user": {"id": factories.gid("User", buyer_id), "name": buyers[buyer_id].name},
            "totalOrders": orders,
            "totalAmount": money(cents),
        }
        for buyer_id, (orders, cents) in ranked[:limit]
    ]


async def place(
    placed: list[Placed],
    buyer: User,
    product: Product,
    quantity: int,
    status: OrderStatus,
    minutes: int,
) -> None:
    """An order row (no wallet or stock changes: only its status, total and time count)."""
    created_at = START + timedelta(minutes=minutes)
    await factories.create_order(buyer, [(product, quantity)], status=status, created_at=created_at)
    placed.append(Placed(buyer, status, product.price_cents * quantity, created_at))


@pytest.fixture
async def product() -> Product:
    seller = await factories.create_user(name="Seller")
    return await factories.create_product(seller, name="Thing", price_cents=1_250)


@pytest.fixture
async def admin(client: httpx.AsyncClient) -> dict[str, str]:
    return factories.bearer(client, await factories.create_user(role=Role.ADMIN))


@pytest.fixture
async def market(product: Product) -> list[Placed]:
    """Five buyers with orders in every status over three days."""
    ada, bob, cyd, dan, eve = [
        await factories.create_user(name=name) for name in ("Ada", "Bob", "Cyd", "Dan", "Eve")
    ]
    placed: list[Placed] = []
    completed, paid, cancelled = OrderStatus.COMPLETED, OrderStatus.PAID, OrderStatus.CANCELLED
    # Ada: two completed orders (25.00 + 12.50), one large cancelled one.
    await place(placed, ada, product, 2, completed, minutes=0)
    await place(placed, ada, product, 1, completed, minutes=60 * 24)
    await place(placed, ada, product, 40, cancelled, minutes=60 * 24 + 1)
    # Bob: one completed order (50.00) on the first day, a large PAID one later.
    await place(placed, bob, product, 4, completed, minutes=10)
    await place(placed, bob, product, 30, paid, minutes=60 * 48)
    # Cyd: three small completed orders (3 x 12.50), the last two on the third day.
    for minutes in (20, 60 * 48, 60 * 48 + 5):
        await place(placed, cyd, product, 1, completed, minutes=minutes)
    # Dan: PAID and PENDING only, never completed.
    await place(placed, dan, product, 50, paid, minutes=30)
    await place(placed, dan, product, 50, OrderStatus.PENDING, minutes=40)
    # Eve: one completed order (62.50) on the third day.
    await place(placed, eve, product, 5, completed, minutes=60 * 48 + 10)
    return placed


async def top(
    client: httpx.AsyncClient, headers: dict[str, str] | None, **variables: Any
) -> httpx.Response:
    return await graphql(client, TOP_CUSTOMERS, variables, headers)


# Access


@pytest.mark.parametrize("role", [Role.USER, Role.MODERATOR])
async def test_top_customers_needs_read_stats(client, market, role):
    headers = factories.bearer(client, await factories.create_user(role=role))

    assert error_code(await top(client, headers)) == "FORBIDDEN"


async def test_top_customers_needs_authentication(client, market):
    assert error_code(await top(client, None)) == "UNAUTHENTICATED"


# Ranking


async def test_ranks_buyers_by_money_spent_on_completed_orders_only(client, admin, market):
    ranked = data(await top(client, admin))["topCustomers"]

    assert ranked == by_hand(market)
    # Spelled out: PAID, PENDING and CANCELLED orders count for nothing (Dan is absent),
    # Ada's cancelled 500.00 and Bob's paid 375.00 are ignored; Cyd's three orders put
    # Cyd before Ada at the same 37.50.
    assert [(row["user"]["name"], row["totalOrders"], row["totalAmount"]) for row in ranked] == [
        ("Eve", 1, "62.50"),
        ("Bob", 1, "50.00"),
        ("Cyd", 3, "37.50"),
        ("Ada", 2, "37.50"),
    ]


async def test_nobody_is_listed_without_completed_orders(client, admin, product):
    buyer = await factories.create_user()
    await factories.create_order(buyer, [(product, 1)], status=OrderStatus.PAID)
    await factories.create_order(buyer, [(product, 1)], status=OrderStatus.CANCELLED)

    assert data(await top(client, admin))["topCustomers"] == []


async def test_a_tie_on_money_goes_to_more_orders_then_to_the_earlier_account(
    client, admin, product
):
    first, second, third, fourth = [
        await factories.create_user(name=name) for name in ("First", "Second", "Third", "Fourth")
    ]
    placed: list[Placed] = []
    completed = OrderStatus.COMPLETED
    # All spend 25.00; Third in two orders, the others in one.
    for buyer in (fourth, second, first):
        await place(placed, buyer, product, 2, completed, minutes=0)
    await place(placed, third, product, 1, completed, minutes=0)
    await place(placed, third, product, 1, completed, minutes=1)

    ranked = data(await top(client, admin))["topCustomers"]

    assert [row["user"]["name"] for row in ranked] == ["Third", "First", "Second", "Fourth"]
    assert ranked == by_hand(placed)


# since and limit


async def test_since_counts_only_orders_placed_from_then_on(client, admin, market):
    since = START + timedelta(days=1)

    ranked = data(await top(client, admin, since=since.isoformat()))["topCustomers"]

    assert ranked == by_hand(market, since=since)
    assert [(row["user"]["name"], row["totalOrders"]) for row in ranked] == [
        ("Eve", 1),
        ("Cyd", 2),
        ("Ada", 1),
    ]


async def test_since_is_inclusive(client, admin, market):
    since = START + timedelta(minutes=60 * 48 + 10)  # exactly Eve's order

    ranked = data(await top(client, admin, since=since.isoformat()))["topCustomers"]

    assert [row["user"]["name"] for row in ranked] == ["Eve"]


async def test_since_in_another_time_zone_means_the_same_instant(client, admin, market):
    since = START + timedelta(days=1)
    east = since.astimezone(timezone(timedelta(hours=2)))
    west = since.astimezone(timezone(timedelta(hours=-5)))

    for moment in (east, west):
        ranked = data(await top(client, admin, since=moment.isoformat()))["topCustomers"]
        assert ranked == by_hand(market, since=since), moment.isoformat()


async def test_since_without_an_offset_is_utc(client, admin, market):
    since = START + timedelta(days=1)

    naive = since.replace(tzinfo=None).isoformat()
    ranked = data(await top(client, admin, since=naive))["topCustomers"]

    assert ranked == by_hand(market, since=since)


async def test_limit_keeps_the_top_buyers(client, admin, market):
    ranked = data(await top(client, admin, limit=2))["topCustomers"]

    assert ranked == by_hand(market, limit=2)
    assert [row["user"]["name"] for row in ranked] == ["Eve", "Bob"]


async def test_the_default_limit_is_ten(client, admin, product):
    placed: list[Placed] = []
    for number in range(12):
        buyer = await factories.create_user(name=f"Buyer {number:02d}")
        await place(placed, buyer, product, number + 1, OrderStatus.COMPLETED, minutes=number)

    ranked = data(await top(client, admin))["topCustomers"]

    assert ranked == by_hand(placed, limit=10)
    assert len(ranked) == 10


@pytest.mark.parametrize("limit", [0, -1, 101])
async def test_a_limit_out_of_range_is_bad_user_input(client, admin, market, limit):
    assert error_code(await top(client, admin, limit=limit)) == "BAD_USER_INPUT"


@pytest.mark.parametrize("limit", [1, 100])
async def test_limits_at_the_bounds_are_accepted(client, admin, market, limit):
    ranked = data(await top(client, admin, limit=limit))["topCustomers"]

    assert ranked == by_hand(market, limit=limit)


# SQL


async def test_one_aggregate_statement_and_one_batch_of_users(
    client_factory: AppFactory, market, sql_statements: StatementCounter
):
    # A fresh app: nothing cached, so the users come from the database.
    client = client_factory()
    headers = factories.bearer(client, await factories.create_user(role=Role.ADMIN))
    sql_statements.reset()

    ranked = data(await top(client, headers))["topCustomers"]

    assert len(ranked) == 4
    # Leave out the caller's own lookup (authentication), whatever it costs.
    statements = [
        statement
        for statement in sql_statements.statements
        if not ('FROM "users" WHERE "id"=' in statement and " IN (" not in statement)
    ]
    assert len(statements) == 2, statements
    aggregate, users = statements
    assert 'FROM "orders"' in aggregate
    assert "GROUP BY" in aggregate
    assert "LIMIT" in aggregate
    assert 'FROM "users"' in users
    assert " IN (" in users or " = ANY($1::bigint[])" in users  # one batch (SQLite, PostgreSQL)
