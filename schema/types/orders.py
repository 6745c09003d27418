"""Order and its lines."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from models.orders import Order as OrderModel
from models.orders import OrderItem as OrderItemModel
from resolvers.prefetch import prefetched, to_many, to_one
from resolvers.relations import order_items, products_by_id, users_by_id
from schema.types.catalogue import Product
from services.money import to_decimal
from vocabulary.cache_hints import NEVER_CACHED
from vocabulary.context import Info
from vocabulary.directives import cost, list_size
from vocabulary.enums import OrderStatus
from vocabulary.relay import Node, to_global_id
from vocabulary.type_checks import decided_by_class

if TYPE_CHECKING:
    from schema.types.user import User

UserRef = Annotated["User", strawberry.lazy("schema.types.user")]


@strawberry.type(name="OrderItem", description="A line of an order.", directives=[NEVER_CACHED])
class OrderItem:
    quantity: int

    @strawberry.field(metadata=prefetched(to_one("product_id", products_by_id)))
    async def product(self, root: strawberry.Parent[OrderItemModel], info: Info) -> Product:
        return await info.context.loaders.catalogue.products_by_id.load(root.product_id)  # type: ignore[return-value]

    @strawberry.field(description="The price when the order was placed.")
    def unit_price(self, root: strawberry.Parent[OrderItemModel]) -> Decimal:
        return to_decimal(root.unit_price_cents)

    @strawberry.field
    def subtotal(self, root: strawberry.Parent[OrderItemModel]) -> Decimal:
        return to_decimal(root.unit_price_cents * root.quantity)


@strawberry.type(
    name="Order", description="An order paid from the buyer's wallet.", directives=[NEVER_CACHED]
)
class Order(Node):
    status: OrderStatus
    created_at: datetime
    updated_at: datetime

    @classmethod
    @decided_by_class
    def is_type_of(cls, obj: object, _info: object) -> bool:
        return isinstance(obj, (OrderModel, cls))

    @strawberry.field  # type: ignore[misc]
    def id(self, root: strawberry.Parent[OrderModel]) -> strawberry.ID:  # type: ignore[override]
        return to_global_id("Order", root.id)

    @strawberry.field(metadata=prefetched(to_one("buyer_id", users_by_id)))
    async def buyer(self, root: strawberry.Parent[OrderModel], info: Info) -> UserRef:
        return await info.context.loaders.users.by_id.load(root.buyer_id)  # type: ignore[return-value]

    @strawberry.field(
        directives=[cost(1), list_size(assumed_size=10)],
        metadata=prefetched(to_many(order_items)),
    )
    async def items(self, root: strawberry.Parent[OrderModel], info: Info) -> list[OrderItem]:
        return await info.context.loaders.orders.items_by_order.load(root.id)  # type: ignore[return-value]

    @strawberry.field
    def total(self, root: strawberry.Parent[OrderModel]) -> Decimal:
        return to_decimal(root.total_cents)
