"""Input types of the contract."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import strawberry
from strawberry import UNSET

from services.input_bounds import SEARCH_MAX
from services.posts import TAG_MAX
from vocabulary.directives import max_length
from vocabulary.enums import OrderStatus, PostStatus, ProductStatus, Role, UserStatus


def search_term() -> Any:
    """A ``search`` filter field (optional): at most ``SEARCH_MAX`` characters."""
    return strawberry.field(default=UNSET, directives=[max_length(SEARCH_MAX)])


@strawberry.input
class RegisterInput:
    name: str
    email: str
    password: str


@strawberry.input
class UpdateProfileInput:
    name: str | None = UNSET


@strawberry.input
class UserFilter:
    search: str | None = search_term()
    role: Role | None = UNSET
    status: UserStatus | None = UNSET


@strawberry.input
class CreatePostInput:
    title: str
    body: str
    tags: list[str] | None = UNSET
    publish: bool | None = False


@strawberry.input
class UpdatePostInput:
    title: str | None = UNSET
    body: str | None = UNSET
    tags: list[str] | None = UNSET


@strawberry.input
class PostFilter:
    author_id: strawberry.ID | None = UNSET
    status: PostStatus | None = UNSET
    tag: str | None = strawberry.field(default=UNSET, directives=[max_length(TAG_MAX)])
    search: str | None = search_term()


@strawberry.input
class CreateProductInput:
    name: str
    description: str
    price: Decimal
    stock: int


@strawberry.input
class UpdateProductInput:
    name: str | None = UNSET
    description: str | None = UNSET
    price: Decimal | None = UNSET
    stock: int | None = UNSET


@strawberry.input
class ProductFilter:
    search: str | None = search_term()
    min_price: Decimal | None = UNSET
    max_price: Decimal | None = UNSET
    in_stock: bool | None = UNSET
    seller_id: strawberry.ID | None = UNSET
    status: ProductStatus | None = UNSET


@strawberry.input
class OrderItemInput:
    product_id: strawberry.ID
    quantity: int


@strawberry.input
class PlaceOrderInput:
    items: list[OrderItemInput]
    idempotency_key: str


@strawberry.input
class OrderFilter:
    status: OrderStatus | None = UNSET
    buyer_id: strawberry.ID | None = UNSET


@strawberry.input
class TransferInput:
    to_user_id: strawberry.ID
    amount: Decimal
    note: str | None = UNSET
    idempotency_key: str
