"""Order queries and mutations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from models.orders import Order
from models.user import User
from resolvers.attachments import MISSING
from resolvers.invalidation import products_changed, users_changed
from resolvers.prefetch import attached_to, prefetch_one, prefetch_page
from services import events, notifications, orders
from services.errors import NotFound
from services.pagination import Ordering, PageArgs, paginate
from vocabulary.arguments import given
from vocabulary.connections import Connection
from vocabulary.context import Info
from vocabulary.inputs import OrderFilter, PlaceOrderInput
from vocabulary.relay import int_pk, optional_int_pk

ORDER_ORDER = Ordering("created_at", descending=True)


async def resolve_order(info: Info, global_id: str) -> Order | None:
    order_id = optional_int_pk(global_id, "Order")
    if order_id is None:
        return None
    try:
        order = await orders.get_visible_order(order_id, info.context.require_user())
    except NotFound:
        return None
    await prefetch_one(info, order)
    return order


async def resolve_orders(
    info: Info,
    page: PageArgs,
    filter: OrderFilter | None,
) -> Connection[Any]:
    criteria = filter or OrderFilter()
    buyer_id = given(criteria.buyer_id)
    query = orders.visible_orders(
        info.context.require_user(), int_pk(buyer_id, "User") if buyer_id else None
    )
    if (status := given(criteria.status)) is not None:
        query = query.filter(status=status)
    return await prefetch_page(info, await paginate(query, ORDER_ORDER, page))


async def orders_of(info: Info, buyer: User, page: PageArgs) -> Connection[Any]:
    """A user's orders: what ``prefetch`` attached, else loaded here (e.g. paging with a
    cursor)."""
    if (found := attached_to(info, buyer)) is not MISSING:
        return found  # type: ignore[no-any-return]
    info.context.note_owners((buyer.id,))
    query = orders.orders_of_buyer(info.context.user, buyer.id)
    return await prefetch_page(info, await paginate(query, ORDER_ORDER, page))


async def place_order(info: Info, data: PlaceOrderInput) -> Order:
    lines = [
        orders.OrderLine(int_pk(item.product_id, "Product"), item.quantity) for item in data.items
    ]
    buyer = info.context.require_user()
    started = datetime.now(UTC)
    order = await orders.place_order(buyer, lines, data.idempotency_key)
    await users_changed(info, [order.buyer_id])
    await products_changed(info, [line.product_id for line in lines])
    if order.created_at >= started:  # placed now, not an idempotent replay
        await events.order_updated(info.context.container.pubsub, order)
        await notifications.on_order_changed(info.context.container, order, buyer, placed=True)
    await prefetch_one(info, order)
    return order


async def cancel_order(info: Info, global_id: str) -> Order:
    viewer = info.context.require_user()
    order = await orders.cancel_order(viewer, int_pk(global_id, "Order"))
    await users_changed(info, [order.buyer_id])
    await products_changed(info, await orders.product_ids(order.id))
    await events.order_updated(info.context.container.pubsub, order)
    await notifications.on_order_changed(info.context.container, order, viewer)
    await prefetch_one(info, order)
    return order


async def complete_order(info: Info, global_id: str) -> Order:
    viewer = info.context.require_user()
    order = await orders.complete_order(viewer, int_pk(global_id, "Order"))
    await users_changed(info, await orders.seller_ids(order.id))
    await events.order_updated(info.context.container.pubsub, order)
    await notifications.on_order_changed(info.context.container, order, viewer)
    await prefetch_one(info, order)
    return order
