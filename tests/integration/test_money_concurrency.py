"""Money under concurrency, through the API with bearer tokens: many requests at once
(asyncio.gather) must neither create nor lose money, never drive a balance or a stock
below zero, sell no more than the stock, and honour idempotency keys exactly once.

The heavy tests need the real PostgreSQL (row locks, READ COMMITTED re-checks of the
conditional UPDATEs, deadlocks between crossing transfers); SQLite serialises
transactions, so there the light versions check the same invariants.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import Any

import httpx
import pytest

from models.catalogue import Product
from models.orders import Order, OrderStatus
from models.user import Role, User
from models.wallet import LedgerEntry, LedgerKind, Transfer
from tests import factories
from tests.conftest import AppFactory, graphql, requires_postgres

TRANSFER = """
mutation($input: TransferInput!) { transfer(input: $input) { id amount } }
"""
PLACE_ORDER = """
mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id status total } }
"""
CANCEL_ORDER = "mutation($id: ID!) { cancelOrder(id: $id) { id status } }"


@pytest.fixture
def client(client_factory: AppFactory) -> httpx.AsyncClient:
    """A client whose cost bucket does not run dry under a burst of requests."""
    return client_factory(
        rate_limit_capacity=100_000, rate_limit_restore_rate=10_000, query_max_cost=5_000
    )


def outcome(response: httpx.Response, field: str) -> tuple[str, Any]:
    """("OK", the field's value) or (the error code, the message) of a mutation."""
    body = response.json()
    if "errors" in body:
        errors = body["errors"]
        assert len(errors) == 1, errors
        return errors[0]["extensions"]["code"], errors[0]["message"]
    return "OK", body["data"][field]


async def balances(users: list[User]) -> dict[int, int]:
    rows = await User.filter(id__in=[user.id for user in users])
    return {row.id: row.balance_cents for row in rows}


async def ledger_sums(users: list[User]) -> dict[int, int]:
    sums = dict.fromkeys((user.id for user in users), 0)
    for entry in await LedgerEntry.filter(user_id__in=list(sums)):
        sums[entry.user_id] += entry.amount_cents
    return sums


# Transfers


async def run_random_transfers(client: httpx.AsyncClient, count: int, seed: int) -> None:
    """``count`` transfers at once between 4 wallets of 100.00 with random amounts (some
    more than the sender will have), then check every invariant of the wallet."""
    rng = random.Random(seed)
    wallets = [await factories.create_user(balance_cents=10_000) for _ in range(4)]
    start = await balances(wallets)
    headers = {user.id: factories.bearer(client, user) for user in wallets}
    planned = []
    for number in range(count):
        sender, receiver = rng.sample(wallets, 2)
        cents = rng.randint(1, 6_000)
        variables = {
            "input": {
                "toUserId": factories.gid("User", receiver.id),
                "amount": f"{cents // 100}.{cents % 100:02d}",
                "idempotencyKey": f"transfer-{number}",
            }
        }
        planned.append(graphql(client, TRANSFER, variables, headers[sender.id]))

    results = [outcome(response, "transfer") for response in await asyncio.gather(*planned)]

    codes = Counter(code for code, _ in results)
    # Only two outcomes are allowed: no deadlock, no serialisation failure, no crash.
    assert set(codes) <= {"OK", "INSUFFICIENT_FUNDS"}, results
    assert codes["OK"] > 0
    end = await balances(wallets)
    assert sum(end.values()) == sum(start.values())
    assert min(end.values()) >= 0
    sums = await ledger_sums(wallets)
    for user_id, cents in end.items():
        assert cents == start[user_id] + sums[user_id], user_id
    assert await Transfer.all().count() == codes["OK"]
    assert await LedgerEntry.filter(kind=LedgerKind.TRANSFER_OUT).count() == codes["OK"]
    assert await LedgerEntry.filter(kind=LedgerKind.TRANSFER_IN).count() == codes["OK"]


@requires_postgres
async def test_fifty_concurrent_transfers_neither_create_nor_lose_money(client):
    await run_random_transfers(client, count=50, seed=20240501)


async def test_concurrent_transfers_keep_the_books_balanced(client):
    """The light version, for every database."""
    await run_random_transfers(client, count=12, seed=7)


@requires_postgres
async def test_crossing_transfers_between_two_wallets_all_succeed(client):
    """A→B and B→A at once lock the two rows in opposite orders unless the service
    orders them: every transfer here is affordable, so each one must succeed."""
    alice = await factories.create_user(balance_cents=10_000)
    bob = await factories.create_user(balance_cents=10_000)
    pairs = [(alice, bob), (bob, alice)] * 15
    requests = [
        graphql(
            client,
            TRANSFER,
            {
                "input": {
                    "toUserId": factories.gid("User", receiver.id),
                    "amount": "1.00",
                    "idempotencyKey": f"cross-{number}",
                }
            },
            factories.bearer(client, sender),
        )
        for number, (sender, receiver) in enumerate(pairs)
    ]

    results = [outcome(response, "transfer") for response in await asyncio.gather(*requests)]

    assert [code for code, _ in results] == ["OK"] * len(pairs), results
    assert await balances([alice, bob]) == {alice.id: 10_000, bob.id: 10_000}
    assert await Transfer.all().count() == len(pairs)


async def test_one_idempotency_key_sent_ten_times_at_once_moves_money_once(client):
    alice = await factories.create_user(balance_cents=10_000)
    bob = await factories.create_user()
    headers = factories.bearer(client, alice)
    variables = {
        "input": {
            "toUserId": factories.gid("User", bob.id),
            "amount": "12.50",
            "idempotencyKey": "rent-may",
        }
    }

    responses = await asyncio.gather(
        *(graphql(client, TRANSFER, variables, headers) for _ in range(10))
    )

    results = [outcome(response, "transfer") for response in responses]
    assert {code for code, _ in results} == {"OK"}, results
    assert len({made["id"] for _, made in results}) == 1
    assert await balances([alice, bob]) == {alice.id: 8_750, bob.id: 1_250}
    assert await Transfer.all().count() == 1


# Orders


async def buyers_and_product(count: int, stock: int) -> tuple[list[User], Product]:
    seller = await factories.create_user(name="Seller")
    product = await factories.create_product(seller, name="Limited", price_cents=725, stock=stock)
    buyers = [await factories.create_user(balance_cents=10_000) for _ in range(count)]
    return buyers, product


def order_variables(product: Product, key: str) -> dict[str, Any]:
    return {
        "input": {
            "idempotencyKey": key,
            "items": [{"productId": factories.gid("Product", product.id), "quantity": 1}],
        }
    }


async def run_competing_orders(client: httpx.AsyncClient, orders: int, stock: int) -> None:
    """``orders`` single-item orders at once, from 6 buyers who can all afford theirs,
    for a product with ``stock`` units: exactly ``stock`` are sold."""
    buyers, product = await buyers_and_product(6, stock)
    start = await balances(buyers)
    requests = [
        graphql(
            client,
            PLACE_ORDER,
            order_variables(product, f"order-{number}"),
            factories.bearer(client, buyers[number % len(buyers)]),
        )
        for number in range(orders)
    ]

    results = [outcome(response, "placeOrder") for response in await asyncio.gather(*requests)]

    codes = Counter(code for code, _ in results)
    assert codes == {"OK": stock, "OUT_OF_STOCK": orders - stock}, results
    assert all("Limited" in message for code, message in results if code == "OUT_OF_STOCK")
    assert all(order["status"] == "PAID" for code, order in results if code == "OK")
    assert (await Product.get(id=product.id)).stock == 0
    end = await balances(buyers)
    assert sum(start.values()) - sum(end.values()) == stock * 725
    sums = await ledger_sums(buyers)
    for user_id, cents in end.items():
        assert cents == start[user_id] + sums[user_id], user_id
    assert await Order.filter(status=OrderStatus.PAID).count() == stock
    assert await Order.all().count() == stock


@requires_postgres
async def test_thirty_buyers_racing_for_ten_units_buy_exactly_ten(client):
    await run_competing_orders(client, orders=30, stock=10)


async def test_buyers_racing_for_the_last_units_buy_exactly_the_stock(client):
    """The light version, for every database."""
    await run_competing_orders(client, orders=9, stock=3)


async def test_one_order_key_sent_ten_times_at_once_makes_one_order_and_one_charge(client):
    (buyer,), product = await buyers_and_product(1, stock=10)
    headers = factories.bearer(client, buyer)
    variables = order_variables(product, "checkout-1")

    responses = await asyncio.gather(
        *(graphql(client, PLACE_ORDER, variables, headers) for _ in range(10))
    )

    results = [outcome(response, "placeOrder") for response in responses]
    assert {code for code, _ in results} == {"OK"}, results
    assert len({order["id"] for _, order in results}) == 1
    assert await Order.all().count() == 1
    assert (await User.get(id=buyer.id)).balance_cents == 10_000 - 725
    assert await LedgerEntry.filter(kind=LedgerKind.ORDER_PAYMENT).count() == 1
    assert (await Product.get(id=product.id)).stock == 9


async def test_ten_cancellations_at_once_refund_once(client):
    (buyer,), product = await buyers_and_product(1, stock=10)
    admin = await factories.create_user(role=Role.ADMIN)
    placed = outcome(
        await graphql(
            client,
            PLACE_ORDER,
            order_variables(product, "checkout-1"),
            factories.bearer(client, buyer),
        ),
        "placeOrder",
    )
    assert placed[0] == "OK", placed
    callers = [factories.bearer(client, buyer), factories.bearer(client, admin)] * 5

    responses = await asyncio.gather(
        *(graphql(client, CANCEL_ORDER, {"id": placed[1]["id"]}, headers) for headers in callers)
    )

    codes = Counter(outcome(response, "cancelOrder")[0] for response in responses)
    assert codes == {"OK": 1, "CONFLICT": 9}
    assert (await User.get(id=buyer.id)).balance_cents == 10_000
    assert (await Product.get(id=product.id)).stock == 10
    assert await LedgerEntry.filter(kind=LedgerKind.ORDER_REFUND).count() == 1
