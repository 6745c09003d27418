"""Enums of the contract: the models' and services' own enums, registered with Strawberry."""

from __future__ import annotations

import enum

import strawberry

from models.catalogue import ProductStatus
from models.orders import OrderStatus
from models.posts import PostStatus
from models.user import Role, UserStatus
from services.permissions import Permission

strawberry.enum(Role, name="Role")
strawberry.enum(UserStatus, name="UserStatus")
strawberry.enum(Permission, name="Permission")
strawberry.enum(PostStatus, name="PostStatus")
strawberry.enum(ProductStatus, name="ProductStatus")
strawberry.enum(OrderStatus, name="OrderStatus")


@strawberry.enum
class OrderDirection(enum.Enum):
    ASC = "ASC"
    DESC = "DESC"

    @property
    def descending(self) -> bool:
        return self is OrderDirection.DESC


@strawberry.enum
class UserOrderField(enum.Enum):
    CREATED_AT = "created_at"
    NAME = "name"


@strawberry.enum
class PostOrderField(enum.Enum):
    CREATED_AT = "created_at"
    PUBLISHED_AT = "published_at"
    TITLE = "title"


@strawberry.enum
class ProductOrderField(enum.Enum):
    CREATED_AT = "created_at"
    PRICE = "price_cents"
    NAME = "name"


__all__ = [
    "OrderDirection",
    "OrderStatus",
    "Permission",
    "PostOrderField",
    "PostStatus",
    "ProductOrderField",
    "ProductStatus",
    "Role",
    "UserOrderField",
    "UserStatus",
]
