"""Orders: placed and paid in one transaction, cancelled with refund and restock in one,
completed (paying the sellers) in one. Illegal transitions are CONFLICT."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import F
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.catalogue import Product, ProductStatus
from models.orders import Order, OrderItem, OrderStatus
from models.user import User
from models.wallet import LedgerEntry, LedgerKind
from services import idempotency
from services.errors import Conflict, Forbidden, NotFound, OutOfStock
from services.global_ids import global_id
from services.permissions import Permission, is_self_or, role_has
from services.validation import Problems
from services.wallet import credit, debit

MAX_LINES = 50
MAX_QUANTITY = 100
PLACE_ORDER = "placeOrder"


@dataclass(frozen=True, slots=True)
class OrderLine:
    product_id: int
    quantity: int


def can_manage(viewer: User | None) -> bool:
    return viewer is not None and role_has(viewer.role, Permission.MANAGE_ORDERS)


def can_read_orders_of(viewer: User | None, buyer_id: int) -> bool:
    """A buyer's orders are read, followed and cancelled by the buyer or MANAGE_ORDERS."""
    return is_self_or(viewer, buyer_id, Permission.MANAGE_ORDERS)


def visible_orders(viewer: User, buyer_id: int | None = None) -> QuerySet[Order]:
    """The buyer's own orders; every order (optionally one buyer's) with MANAGE_ORDERS."""
    if buyer_id is not None:
        return orders_of_buyer(viewer, buyer_id)
    return Order.all() if can_manage(viewer) else Order.filter(buyer_id=viewer.id)


def orders_of_buyer(viewer: User | None, buyer_id: int) -> QuerySet[Order]:
    """One buyer's orders; for a viewer who may not read them, none (not an error)."""
    query = Order.filter(buyer_id=buyer_id)
    # An empty ``__in`` is Tortoise's ``1=0``: still one statement, matching nothing.
    return query if can_read_orders_of(viewer, buyer_id) else query.filter(id__in=[])


async def get_visible_order(order_id: int, viewer: User) -> Order:
    order = await Order.get_or_none(id=order_id)
    if order is None or not can_read_orders_of(viewer, order.buyer_id):
        raise NotFound("Order not found")
    return order


def _check_lines(problems: Problems, lines: list[OrderLine]) -> None:
    if not 1 <= len(lines) <= MAX_LINES:
        problems.add("input.items", f"An order has 1 to {MAX_LINES} lines")
    seen: set[int] = set()
    for index, line in enumerate(lines):
        if not 1 <= line.quantity <= MAX_QUANTITY:
            problems.add(f"input.items.{index}.quantity", f"Quantity must be 1 to {MAX_QUANTITY}")
        if line.product_id in seen:
            problems.add(f"input.items.{index}.productId", "Each product may appear once")
        seen.add(line.product_id)


async def place_order(buyer: User, lines: list[OrderLine], key: str) -> Order:
    problems = Problems()
    _check_lines(problems, lines)
    key = idempotency.check_key(problems, "input.idempotencyKey", key)
    problems.raise_if_any()
    request_hash = idempotency.payload_hash(
        sorted([line.product_id, line.quantity] for line in lines)
    )
    replay = await idempotency.find_replay(buyer.id, PLACE_ORDER, key, request_hash)
    if replay is not None:
        return await Order.get(id=replay)
    try:
        async with in_transaction():
            record = await idempotency.claim(buyer.id, PLACE_ORDER, key, request_hash)
            order = await _charge_and_create(buyer, lines)
            record.result_id = order.id
            await record.save(update_fields=["result_id"])
    except idempotency.KeyTaken:
        replay = await idempotency.find_replay(buyer.id, PLACE_ORDER, key, request_hash)
        assert replay is not None
        return await Order.get(id=replay)
    return order


async def _charge_and_create(buyer: User, lines: list[OrderLine]) -> Order:
    products = {
        product.id: product
        for product in await Product.filter(
            id__in=[line.product_id for line in lines], status=ProductStatus.ACTIVE
        )
    }
    for line in lines:
        if line.product_id not in products:
            raise NotFound(
                "A product of this order is not available",
                productId=global_id("Product", line.product_id),
            )
    # Rows are updated in id order so two orders for the same products cannot deadlock.
    total = 0
    for line in sorted(lines, key=lambda item: item.product_id):
        product = products[line.product_id]
        reserved = await Product.filter(
            id=product.id, stock__gte=line.quantity, status=ProductStatus.ACTIVE
        ).update(stock=F("stock") - line.quantity)
        if not reserved:
            raise OutOfStock(
                f"'{product.name}' does not have {line.quantity} in stock",
                productId=global_id("Product", product.id),
            )
        # Read the price after the row is ours (the UPDATE locked it on PostgreSQL), so a
        # concurrent price change cannot slip between reading and charging.
        product.price_cents = (
            await Product.filter(id=product.id).first().values_list("price_cents", flat=True)
        )
        total += product.price_cents * line.quantity
    await debit(buyer.id, total)
    order = await Order.create(buyer=buyer, status=OrderStatus.PAID, total_cents=total)
    await OrderItem.bulk_create(
        [
            OrderItem(
                order_id=order.id,
                product_id=line.product_id,
                quantity=line.quantity,
                unit_price_cents=products[line.product_id].price_cents,
            )
            for line in lines
        ]
    )
    await LedgerEntry.create(
        user_id=buyer.id, kind=LedgerKind.ORDER_PAYMENT, amount_cents=-total, order_id=order.id
    )
    return order


async def _transition(order_id: int, source: OrderStatus, target: OrderStatus) -> None:
    moved = await Order.filter(id=order_id, status=source).update(status=target)
    if not moved:
        raise Conflict(f"Only a {source.value} order can become {target.value}")


async def cancel_order(viewer: User, order_id: int) -> Order:
    """PAID → CANCELLED by the buyer or MANAGE_ORDERS: refund and restock together."""
    order = await get_visible_order(order_id, viewer)
    async with in_transaction():
        await _transition(order.id, OrderStatus.PAID, OrderStatus.CANCELLED)
        for item in await OrderItem.filter(order_id=order.id).order_by("product_id"):
            await Product.filter(id=item.product_id).update(stock=F("stock") + item.quantity)
        await credit(order.buyer_id, order.total_cents)
        await LedgerEntry.create(
            user_id=order.buyer_id,
            kind=LedgerKind.ORDER_REFUND,
            amount_cents=order.total_cents,
            order_id=order.id,
        )
    return await Order.get(id=order.id)


async def complete_order(viewer: User, order_id: int) -> Order:
    """PAID → COMPLETED (MANAGE_ORDERS): each seller is paid for their lines."""
    if not can_manage(viewer):
        raise Forbidden("Requires the MANAGE_ORDERS permission")
    order = await get_visible_order(order_id, viewer)
    async with in_transaction():
        await _transition(order.id, OrderStatus.PAID, OrderStatus.COMPLETED)
        proceeds: dict[int, int] = defaultdict(int)
        items = await OrderItem.filter(order_id=order.id).select_related("product")
        for item in items:
            proceeds[item.product.seller_id] += item.unit_price_cents * item.quantity
        for seller_id in sorted(proceeds):
            await credit(seller_id, proceeds[seller_id])
            await LedgerEntry.create(
                user_id=seller_id,
                kind=LedgerKind.SALE_PROCEEDS,
                amount_cents=proceeds[seller_id],
                order_id=order.id,
            )
    return await Order.get(id=order.id)


async def product_ids(order_id: int) -> list[int]:
    rows: list[Any] = await OrderItem.filter(order_id=order_id).values_list("product_id", flat=True)
    return [int(product_id) for product_id in rows]


async def seller_ids(order_id: int) -> list[int]:
    rows: list[Any] = (
        await Product.filter(order_items__order_id=order_id)
        .distinct()
        .values_list("seller_id", flat=True)
    )
    return [int(seller_id) for seller_id in rows]
