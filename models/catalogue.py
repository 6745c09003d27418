"""The product catalogue."""

from __future__ import annotations

import enum

from tortoise import fields

from models.hydration import FastHydration


class ProductStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"


class Product(FastHydration):
    """``price_cents`` is integer cents; ``stock`` never goes negative (conditional updates)."""

    id = fields.BigIntField(primary_key=True)
    seller: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="products", on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=120)
    description = fields.TextField()
    price_cents = fields.BigIntField()
    stock = fields.IntField(default=0)
    status = fields.CharEnumField(ProductStatus, max_length=16, default=ProductStatus.ACTIVE)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    seller_id: int

    class Meta:
        table = "products"
        indexes = (
            ("status", "created_at", "id"),
            ("status", "price_cents", "id"),
            ("status", "name", "id"),
            ("seller_id", "created_at", "id"),
        )


from models.user import User  # noqa: E402  (for the relation annotations)
