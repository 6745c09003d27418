"""Orders paid from the wallet."""

from __future__ import annotations

import enum

from tortoise import fields

from models.hydration import FastHydration


class OrderStatus(enum.StrEnum):
    PENDING = "PENDING"
    PAID = "PAID"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class Order(FastHydration):
    id = fields.BigIntField(primary_key=True)
    buyer: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="orders", on_delete=fields.RESTRICT
    )
    status = fields.CharEnumField(OrderStatus, max_length=16, default=OrderStatus.PENDING)
    total_cents = fields.BigIntField()
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    buyer_id: int

    class Meta:
        table = "orders"
        indexes = (
            ("buyer_id", "created_at", "id"),
            ("status", "created_at", "id"),
            ("status", "buyer_id"),
        )


class OrderItem(FastHydration):
    """A line of an order; ``unit_price_cents`` is the price when the order was placed."""

    id = fields.BigIntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="items", on_delete=fields.CASCADE
    )
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name="order_items", on_delete=fields.RESTRICT
    )
    quantity = fields.IntField()
    unit_price_cents = fields.BigIntField()

    order_id: int
    product_id: int

    class Meta:
        table = "order_items"
        indexes = (("order_id", "id"), ("product_id",))


from models.catalogue import Product  # noqa: E402
from models.user import User  # noqa: E402
