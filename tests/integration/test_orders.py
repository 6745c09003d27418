"""Orders through the API: placeOrder charges the wallet and reserves stock in one
transaction (every failure rolls all of it back), idempotent replays, the PAID → CANCELLED
(refund and restock) and PAID → COMPLETED (sellers paid) transitions, who may see and
change an order, and the ledger that explains every balance change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from models.catalogue import Product, ProductStatus
from models.orders import Order, OrderItem, OrderStatus
from models.user import Role, User
from models.wallet import IdempotencyRecord, LedgerEntry, LedgerKind
from tests import factories
from tests.conftest import data, graphql
from vocabulary.relay import from_global_id, to_global_id

PLACE_ORDER = """
mutation($input: PlaceOrderInput!) {
  placeOrder(input: $input) {
    id status total
    buyer { id balance }
    items { quantity unitPrice subtotal product { id name stock } }
  }
}
"""
CANCEL_ORDER = "mutation($id: ID!) { cancelOrder(id: $id) { id status total } }"
COMPLETE_ORDER = "mutation($id: ID!) { completeOrder(id: $id) { id status total } }"
DEPOSIT = """
mutation($userId: ID!, $amount: Decimal!) { depositFunds(userId: $userId, amount: $amount) { id } }
"""
ORDER = "query($id: ID!) { order(id: $id) { id status total buyer { id } } }"
ORDERS = """
query($filter: OrderFilter) {
  orders(first: 50, filter: $filter) { totalCount nodes { id status buyer { id } } }
}
"""


# Helpers


def error(response: httpx.Response) -> dict[str, Any]:
    """The one error of a response, with the message merged into its extensions."""
    errors = response.json()["errors"]
    assert len(errors) == 1, errors
    return {"message": errors[0]["message"], **errors[0]["extensions"]}


def details(response: httpx.Response) -> dict[str, str]:
    """The VALIDATION_ERROR details as {field: message}."""
    failure = error(response)
    assert failure["code"] == "VALIDATION_ERROR", failure
    return {entry["field"]: entry["message"] for entry in failure["details"]}


def gid(model: User | Product | Order) -> str:
    return factories.gid(type(model).__name__, model.id)


def order_input(key: str, *lines: tuple[Product, int]) -> dict[str, Any]:
    return {
        "input": {
            "idempotencyKey": key,
            "items": [{"productId": gid(product), "quantity": qty} for product, qty in lines],
        }
    }


async def place(
    client: httpx.AsyncClient, headers: dict[str, str], key: str, *lines: tuple[Product, int]
) -> httpx.Response:
    return await graphql(client, PLACE_ORDER, order_input(key, *lines), headers)


async def placed(
    client: httpx.AsyncClient, headers: dict[str, str], key: str, *lines: tuple[Product, int]
) -> dict[str, Any]:
    return data(await place(client, headers, key, *lines))["placeOrder"]  # type: ignore[no-any-return]


async def balance(user: User) -> int:
    return (await User.get(id=user.id)).balance_cents  # type: ignore[no-any-return]


async def stock(product: Product) -> int:
    return (await Product.get(id=product.id)).stock


async def ledger_sum(user: User) -> int:
    return sum(entry.amount_cents for entry in await LedgerEntry.filter(user_id=user.id))


async def order_id_of(order: dict[str, Any]) -> int:
    """The database id behind an order's global ID."""
    type_name, pk = from_global_id(order["id"])
    assert type_name == "Order"
    return int(pk)


@dataclass
class Shop:
    """A seller with two products, a buyer with 100.00 in the wallet, and an admin; the
    buyer and the admin hold access tokens."""

    seller: User
    buyer: User
    widget: Product
    gadget: Product
    buyer_headers: dict[str, str]
    admin_headers: dict[str, str]


@pytest.fixture
async def shop(client: httpx.AsyncClient) -> Shop:
    seller = await factories.create_user(name="Sam Seller")
    buyer = await factories.create_user(name="Bea Buyer", balance_cents=10_000)
    admin = await factories.create_user(name="Ann Admin", role=Role.ADMIN)
    # Created in this order, so widget.id < gadget.id (lines are reserved in id order).
    widget = await factories.create_product(seller, name="Widget", price_cents=1250, stock=5)
    gadget = await factories.create_product(seller, name="Gadget", price_cents=399, stock=2)
    assert widget.id < gadget.id
    return Shop(
        seller,
        buyer,
        widget,
        gadget,
        factories.bearer(client, buyer),
        factories.bearer(client, admin),
    )


# Placing an order


async def test_place_order_charges_the_wallet_reserves_stock_and_records_the_lines(client, shop):
    order = await placed(client, shop.buyer_headers, "order-1", (shop.widget, 2), (shop.gadget, 1))

    assert order["status"] == "PAID"
    assert order["total"] == "28.99"
    assert order["buyer"] == {"id": gid(shop.buyer), "balance": "71.01"}
    lines = {line["product"]["name"]: line for line in order["items"]}
    assert lines["Widget"] == {
        "quantity": 2,
        "unitPrice": "12.50",
        "subtotal": "25.00",
        "product": {"id": gid(shop.widget), "name": "Widget", "stock": 3},
    }
    assert lines["Gadget"] == {
        "quantity": 1,
        "unitPrice": "3.99",
        "subtotal": "3.99",
        "product": {"id": gid(shop.gadget), "name": "Gadget", "stock": 1},
    }
    assert await balance(shop.buyer) == 7101
    assert (await stock(shop.widget), await stock(shop.gadget)) == (3, 1)
    entries = await LedgerEntry.filter(user_id=shop.buyer.id)
    assert [(e.kind, e.amount_cents) for e in entries] == [(LedgerKind.ORDER_PAYMENT, -2899)]
    assert entries[0].order_id == await order_id_of(order)
    # The seller is paid only when the order is completed.
    assert await balance(shop.seller) == 0


async def test_lines_keep_the_price_of_the_moment_the_order_was_placed(client, shop):
    order = await placed(client, shop.buyer_headers, "order-1", (shop.widget, 1))
    await Product.filter(id=shop.widget.id).update(price_cents=9999)

    response = await graphql(
        client,
        "query($id: ID!) { order(id: $id) { total items { unitPrice subtotal } } }",
        {"id": order["id"]},
        shop.buyer_headers,
    )

    assert data(response)["order"] == {
        "total": "12.50",
        "items": [{"unitPrice": "12.50", "subtotal": "12.50"}],
    }


async def test_place_order_reports_every_invalid_field_at_once(client, shop):
    lines = [{"productId": to_global_id("Product", 1000 + n), "quantity": 1} for n in range(51)]
    lines[0]["quantity"] = 0
    lines[1]["quantity"] = 101
    lines[2]["productId"] = lines[3]["productId"]
    variables = {"input": {"idempotencyKey": "   ", "items": lines}}

    response = await graphql(client, PLACE_ORDER, variables, shop.buyer_headers)

    assert details(response) == {
        "input.items": "An order has 1 to 50 lines",
        "input.items.0.quantity": "Quantity must be 1 to 100",
        "input.items.1.quantity": "Quantity must be 1 to 100",
        "input.items.3.productId": "Each product may appear once",
        "input.idempotencyKey": "Idempotency key must be 1 to 128 characters",
    }
    assert await balance(shop.buyer) == 10_000
    assert await Order.all().count() == 0


async def test_an_order_needs_at_least_one_line(client, shop):
    response = await graphql(
        client, PLACE_ORDER, {"input": {"idempotencyKey": "k", "items": []}}, shop.buyer_headers
    )

    assert details(response) == {"input.items": "An order has 1 to 50 lines"}


@pytest.mark.parametrize("quantity", [1, 100])
async def test_quantities_at_the_limits_are_accepted(client, shop, quantity):
    await Product.filter(id=shop.gadget.id).update(stock=100)
    await User.filter(id=shop.buyer.id).update(balance_cents=100_000)

    order = await placed(client, shop.buyer_headers, "order-1", (shop.gadget, quantity))

    assert order["items"][0]["quantity"] == quantity
    assert await stock(shop.gadget) == 100 - quantity


async def test_an_idempotency_key_over_128_characters_is_invalid(client, shop):
    response = await place(client, shop.buyer_headers, "k" * 129, (shop.widget, 1))

    assert details(response) == {
        "input.idempotencyKey": "Idempotency key must be 1 to 128 characters"
    }


async def test_an_archived_product_is_not_found(client, shop):
    await Product.filter(id=shop.gadget.id).update(status=ProductStatus.ARCHIVED)

    response = await place(
        client, shop.buyer_headers, "order-1", (shop.widget, 1), (shop.gadget, 1)
    )

    assert error(response)["code"] == "NOT_FOUND"
    assert await stock(shop.widget) == 5
    assert await balance(shop.buyer) == 10_000
    assert await Order.all().count() == 0


async def test_a_missing_product_is_not_found(client, shop):
    ghost = to_global_id("Product", shop.gadget.id + 1000)
    variables = order_input("order-1", (shop.widget, 1))
    variables["input"]["items"].append({"productId": ghost, "quantity": 1})

    response = await graphql(client, PLACE_ORDER, variables, shop.buyer_headers)

    assert error(response)["code"] == "NOT_FOUND"
    assert await stock(shop.widget) == 5
    assert await balance(shop.buyer) == 10_000


async def test_a_product_id_of_another_type_is_bad_user_input(client, shop):
    variables = {
        "input": {
            "idempotencyKey": "order-1",
            "items": [{"productId": gid(shop.buyer), "quantity": 1}],
        }
    }

    response = await graphql(client, PLACE_ORDER, variables, shop.buyer_headers)

    assert error(response)["code"] == "BAD_USER_INPUT"


async def test_out_of_stock_names_the_product_and_rolls_back_everything(client, shop):
    # The widget line (lower id) is reserved first; the gadget line (stock 2) fails.
    response = await place(
        client, shop.buyer_headers, "order-1", (shop.widget, 2), (shop.gadget, 3)
    )

    failure = error(response)
    assert failure["code"] == "OUT_OF_STOCK"
    assert "Gadget" in failure["message"]
    assert "Widget" not in failure["message"]
    assert (await stock(shop.widget), await stock(shop.gadget)) == (5, 2)
    assert await balance(shop.buyer) == 10_000
    assert await Order.all().count() == 0
    assert await OrderItem.all().count() == 0
    assert await LedgerEntry.all().count() == 0
    assert await IdempotencyRecord.all().count() == 0


async def test_a_failed_order_leaves_its_key_free_for_a_retry(client, shop):
    failed = await place(client, shop.buyer_headers, "order-1", (shop.gadget, 3))
    assert error(failed)["code"] == "OUT_OF_STOCK"
    await Product.filter(id=shop.gadget.id).update(stock=3)

    order = await placed(client, shop.buyer_headers, "order-1", (shop.gadget, 3))

    assert order["status"] == "PAID"
    assert await stock(shop.gadget) == 0


async def test_insufficient_funds_rolls_back_the_reserved_stock(client, shop):
    await User.filter(id=shop.buyer.id).update(balance_cents=2898)

    response = await place(
        client, shop.buyer_headers, "order-1", (shop.widget, 2), (shop.gadget, 1)
    )

    assert error(response)["code"] == "INSUFFICIENT_FUNDS"
    assert (await stock(shop.widget), await stock(shop.gadget)) == (5, 2)
    assert await balance(shop.buyer) == 2898
    assert await Order.all().count() == 0
    assert await LedgerEntry.all().count() == 0


async def test_the_exact_balance_is_enough(client, shop):
    await User.filter(id=shop.buyer.id).update(balance_cents=2899)

    order = await placed(client, shop.buyer_headers, "order-1", (shop.widget, 2), (shop.gadget, 1))

    assert order["buyer"]["balance"] == "0.00"


# Idempotency


async def test_a_replay_returns_the_first_order_without_charging_again(client, shop):
    first = await placed(client, shop.buyer_headers, "order-1", (shop.widget, 2), (shop.gadget, 1))
    # The same items in another order are the same request.
    again = await placed(client, shop.buyer_headers, "order-1", (shop.gadget, 1), (shop.widget, 2))

    assert again["id"] == first["id"]
    assert again["total"] == first["total"]
    assert await Order.all().count() == 1
    assert await balance(shop.buyer) == 7101
    assert (await stock(shop.widget), await stock(shop.gadget)) == (3, 1)
    assert await LedgerEntry.filter(user_id=shop.buyer.id).count() == 1


async def test_the_same_key_with_other_items_is_a_conflict(client, shop):
    await placed(client, shop.buyer_headers, "order-1", (shop.widget, 2))

    response = await place(client, shop.buyer_headers, "order-1", (shop.widget, 3))

    assert error(response)["code"] == "CONFLICT"
    assert await Order.all().count() == 1
    assert await balance(shop.buyer) == 10_000 - 2500
    assert await stock(shop.widget) == 3


async def test_keys_are_per_buyer(client, shop):
    other = await factories.create_user(balance_cents=10_000)
    other_headers = factories.bearer(client, other)
    mine = await placed(client, shop.buyer_headers, "order-1", (shop.widget, 1))

    theirs = await placed(client, other_headers, "order-1", (shop.widget, 1))

    assert theirs["id"] != mine["id"]
    assert await stock(shop.widget) == 3
    assert (await balance(shop.buyer), await balance(other)) == (8750, 8750)


# Cancelling and completing


async def test_the_buyer_cancels_a_paid_order_with_refund_and_restock(client, shop):
    order = await placed(client, shop.buyer_headers, "order-1", (shop.widget, 2), (shop.gadget, 1))

    response = await graphql(client, CANCEL_ORDER, {"id": order["id"]}, shop.buyer_headers)

    assert data(response)["cancelOrder"] == {
        "id": order["id"],
        "status": "CANCELLED",
        "total": "28.99",
    }
    assert await balance(shop.buyer) == 10_000
    assert (await stock(shop.widget), await stock(shop.gadget)) == (5, 2)
    entries = await LedgerEntry.filter(user_id=shop.buyer.id).order_by("id")
    assert [(e.kind, e.amount_cents) for e in entries] == [
        (LedgerKind.ORDER_PAYMENT, -2899),
        (LedgerKind.ORDER_REFUND, 2899),
    ]


async def test_a_cancellation_that_fails_halfway_changes_nothing(client, shop, monkeypatch):
    order = await placed(client, shop.buyer_headers, "order-1", (shop.widget, 2), (shop.gadget, 1))

    async def broken_credit(user_id: int, cents: int) -> None:
        raise RuntimeError("the database went away after the restock")

    monkeypatch.setattr("services.orders.credit", broken_credit)
    response = await graphql(client, CANCEL_ORDER, {"id": order["id"]}, shop.buyer_headers)

    assert error(response)["code"] == "INTERNAL_SERVER_ERROR"
    assert (await Order.get(id=await order_id_of(order))).status is OrderStatus.PAID
    assert (await stock(shop.widget), await stock(shop.gadget)) == (3, 1)
    assert await balance(shop.buyer) == 7101


async def test_an_admin_may_cancel_any_order(client, shop):
    order = await placed(client, shop.buyer_headers, "order-1", (shop.widget, 1))

    response = await graphql(client, CANCEL_ORDER, {"id": order["id"]}, shop.admin_headers)

    assert data(response)["cancelOrder"]["status"] == "CANCELLED"
    assert await balance(shop.buyer) == 10_000


async def test_cancelling_twice_is_a_conflict(client, shop):
    order = await placed(client, shop.buyer_headers, "order-1", (shop.widget, 2))
    data(await graphql(client, CANCEL_ORDER, {"id": order["id"]}, shop.buyer_headers))

    response = await graphql(client, CANCEL_ORDER, {"id": order["id"]}, shop.buyer_headers)

    assert error(response)["code"] == "CONFLICT"
    assert await balance(shop.buyer) == 10_000
    assert await stock(shop.widget) == 5
    assert await LedgerEntry.filter(kind=LedgerKind.ORDER_REFUND).count() == 1


async def test_completing_needs_manage_orders(client, shop):
    order = await placed(client, shop.buyer_headers, "order-1", (shop.widget, 1))

    response = await graphql(client, COMPLETE_ORDER, {"id": order["id"]}, shop.buyer_headers)

    assert error(response)["code"] == "FORBIDDEN"
    assert (await Order.get(id=await order_id_of(order))).status is OrderStatus.PAID
    assert await balance(shop.seller) == 0


async def test_completing_pays_each_seller_for_their_lines(client, shop):
    other_seller = await factories.create_user(name="Max Maker")
    lamp = await factories.create_product(other_seller, name="Lamp", price_cents=2000, stock=1)
    order = await placed(
        client, shop.buyer_headers, "order-1", (shop.widget, 2), (shop.gadget, 1), (lamp, 1)
    )
    assert order["total"] == "48.99"

    response = await graphql(client, COMPLETE_ORDER, {"id": order["id"]}, shop.admin_headers)

    assert data(response)["completeOrder"]["status"] == "COMPLETED"
    assert await balance(shop.seller) == 2899
    assert await balance(other_seller) == 2000
    assert await balance(shop.buyer) == 10_000 - 4899
    proceeds = await LedgerEntry.filter(kind=LedgerKind.SALE_PROCEEDS).order_by("user_id")
    order_id = await order_id_of(order)
    assert [(e.user_id, e.amount_cents, e.order_id) for e in proceeds] == [
        (shop.seller.id, 2899, order_id),
        (other_seller.id, 2000, order_id),
    ]


async def test_completing_a_cancelled_order_is_a_conflict(client, shop):
    order = await placed(client, shop.buyer_headers, "order-1", (shop.widget, 1))
    data(await graphql(client, CANCEL_ORDER, {"id": order["id"]}, shop.buyer_headers))

    response = await graphql(client, COMPLETE_ORDER, {"id": order["id"]}, shop.admin_headers)

    assert error(response)["code"] == "CONFLICT"
    assert await balance(shop.seller) == 0
    assert await LedgerEntry.filter(kind=LedgerKind.SALE_PROCEEDS).count() == 0


async def test_cancelling_a_completed_order_is_a_conflict(client, shop):
    order = await placed(client, shop.buyer_headers, "order-1", (shop.widget, 1))
    data(await graphql(client, COMPLETE_ORDER, {"id": order["id"]}, shop.admin_headers))

    response = await graphql(client, CANCEL_ORDER, {"id": order["id"]}, shop.buyer_headers)

    assert error(response)["code"] == "CONFLICT"
    assert await balance(shop.buyer) == 10_000 - 1250
    assert await stock(shop.widget) == 4


async def test_completing_twice_pays_the_seller_once(client, shop):
    order = await placed(client, shop.buyer_headers, "order-1", (shop.widget, 1))
    data(await graphql(client, COMPLETE_ORDER, {"id": order["id"]}, shop.admin_headers))

    response = await graphql(client, COMPLETE_ORDER, {"id": order["id"]}, shop.admin_headers)

    assert error(response)["code"] == "CONFLICT"
    assert await balance(shop.seller) == 1250


# Visibility


async def test_another_user_cannot_see_my_order(client, shop):
    order = await placed(client, shop.buyer_headers, "order-1", (shop.widget, 1))
    stranger = factories.bearer(client, await factories.create_user(balance_cents=5000))

    response = await graphql(client, ORDER, {"id": order["id"]}, stranger)

    assert data(response)["order"] is None


async def test_the_buyer_and_an_admin_see_the_order(client, shop):
    order = await placed(client, shop.buyer_headers, "order-1", (shop.widget, 1))

    for headers in (shop.buyer_headers, shop.admin_headers):
        seen = data(await graphql(client, ORDER, {"id": order["id"]}, headers))["order"]
        assert seen == {
            "id": order["id"],
            "status": "PAID",
            "total": "12.50",
            "buyer": {"id": gid(shop.buyer)},
        }


async def test_another_user_cannot_cancel_my_order(client, shop):
    order = await placed(client, shop.buyer_headers, "order-1", (shop.widget, 1))
    stranger = factories.bearer(client, await factories.create_user(balance_cents=5000))

    response = await graphql(client, CANCEL_ORDER, {"id": order["id"]}, stranger)

    assert error(response)["code"] == "NOT_FOUND"
    assert (await Order.get(id=await order_id_of(order))).status is OrderStatus.PAID
    assert await balance(shop.buyer) == 10_000 - 1250
    assert await stock(shop.widget) == 4


async def test_orders_are_the_callers_own_for_a_user(client, shop):
    mine = await placed(client, shop.buyer_headers, "order-1", (shop.widget, 1))
    other = await factories.create_user(balance_cents=10_000)
    other_headers = factories.bearer(client, other)
    await placed(client, other_headers, "order-1", (shop.gadget, 1))

    response = await graphql(client, ORDERS, {}, shop.buyer_headers)
    # Asking for another buyer's orders shows nothing rather than an error.
    filtered = await graphql(
        client, ORDERS, {"filter": {"buyerId": gid(other)}}, shop.buyer_headers
    )

    assert data(response)["orders"] == {
        "totalCount": 1,
        "nodes": [{"id": mine["id"], "status": "PAID", "buyer": {"id": gid(shop.buyer)}}],
    }
    assert data(filtered)["orders"] == {"totalCount": 0, "nodes": []}


async def test_an_admin_sees_every_order_and_filters_by_buyer(client, shop):
    mine = await placed(client, shop.buyer_headers, "order-1", (shop.widget, 1))
    other = await factories.create_user(balance_cents=10_000)
    theirs = await placed(client, factories.bearer(client, other), "order-1", (shop.gadget, 1))

    everything = data(await graphql(client, ORDERS, {}, shop.admin_headers))["orders"]
    filtered = data(
        await graphql(client, ORDERS, {"filter": {"buyerId": gid(other)}}, shop.admin_headers)
    )["orders"]

    assert everything["totalCount"] == 2
    assert {node["id"] for node in everything["nodes"]} == {mine["id"], theirs["id"]}
    assert filtered == {
        "totalCount": 1,
        "nodes": [{"id": theirs["id"], "status": "PAID", "buyer": {"id": gid(other)}}],
    }


async def test_an_admin_filters_orders_by_status(client, shop):
    kept = await placed(client, shop.buyer_headers, "order-1", (shop.widget, 1))
    dropped = await placed(client, shop.buyer_headers, "order-2", (shop.widget, 1))
    data(await graphql(client, CANCEL_ORDER, {"id": dropped["id"]}, shop.buyer_headers))

    response = await graphql(client, ORDERS, {"filter": {"status": "PAID"}}, shop.admin_headers)

    assert [node["id"] for node in data(response)["orders"]["nodes"]] == [kept["id"]]


# The ledger


async def test_the_ledger_explains_every_balance_change(client, shop):
    """Starting from empty wallets funded by deposits, after orders, a cancellation and a
    completion every balance is exactly the sum of its ledger entries."""
    await User.filter(id=shop.buyer.id).update(balance_cents=0)
    other = await factories.create_user(name="Olga Other")
    other_headers = factories.bearer(client, other)
    for user, amount in ((shop.buyer, "100.00"), (other, "40.05")):
        variables = {"userId": gid(user), "amount": amount}
        data(await graphql(client, DEPOSIT, variables, shop.admin_headers))

    kept = await placed(client, shop.buyer_headers, "a", (shop.widget, 2), (shop.gadget, 1))
    dropped = await placed(client, shop.buyer_headers, "b", (shop.widget, 1))
    theirs = await placed(client, other_headers, "a", (shop.widget, 1), (shop.gadget, 1))
    data(await graphql(client, CANCEL_ORDER, {"id": dropped["id"]}, shop.buyer_headers))
    data(await graphql(client, COMPLETE_ORDER, {"id": kept["id"]}, shop.admin_headers))
    data(await graphql(client, COMPLETE_ORDER, {"id": theirs["id"]}, shop.admin_headers))

    assert await balance(shop.buyer) == 10_000 - 2899
    assert await balance(other) == 4005 - 1649
    assert await balance(shop.seller) == 2899 + 1649
    for user in await User.all():
        assert user.balance_cents == await ledger_sum(user), user.email
    # No money was created or lost: the deposits are all there is.
    assert sum(user.balance_cents for user in await User.all()) == 10_000 + 4005
