"""Rows for tests, created directly with the Tortoise models (no API round trip), and
bearer headers for their users.

Every helper takes keyword arguments for what a test cares about and fills the rest with
valid defaults; ``created_at`` can be given to build ties and orderings on purpose.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from models.catalogue import Product, ProductStatus
from models.orders import Order, OrderItem, OrderStatus
from models.posts import Comment, Post, PostStatus, PostTag
from models.user import Role, User, UserStatus
from models.wallet import Transfer
from server.container import Container
from services.tokens import issue_access_token
from vocabulary.relay import to_global_id

# Not an argon2 hash: these users cannot log in with a password unless a test passes a
# real ``password_hash`` (``client.container.passwords.hash(...)``).
UNUSABLE_PASSWORD_HASH = "!unusable"

_sequence = itertools.count(1)


def _next() -> int:
    return next(_sequence)


def _when(created_at: datetime | None) -> dict[str, Any]:
    """``created_at`` only when given: None is refused, omitted means now."""
    return {} if created_at is None else {"created_at": created_at}


def gid(type_name: str, pk: int) -> str:
    """The global (Relay) ID of a row."""
    return str(to_global_id(type_name, pk))


async def create_user(
    *,
    name: str | None = None,
    email: str | None = None,
    role: Role = Role.USER,
    status: UserStatus = UserStatus.ACTIVE,
    password_hash: str = UNUSABLE_PASSWORD_HASH,
    balance_cents: int = 0,
    created_at: datetime | None = None,
) -> User:
    number = _next()
    return await User.create(
        name=name or f"User {number}",
        email=User.normalize_email(email or f"user{number}@example.com"),
        password_hash=password_hash,
        role=role,
        status=status,
        balance_cents=balance_cents,
        email_verified_at=datetime.now(UTC) if status is UserStatus.ACTIVE else None,
        **_when(created_at),
    )


async def create_users(count: int, *, role: Role = Role.USER) -> list[User]:
    return [await create_user(role=role) for _ in range(count)]


async def create_post(
    author: User,
    *,
    title: str | None = None,
    body: str = "Some text.",
    status: PostStatus = PostStatus.PUBLISHED,
    tags: Sequence[str] = (),
    created_at: datetime | None = None,
    published_at: datetime | None = None,
) -> Post:
    """A post (with its tag index rows); a published post gets ``published_at`` =
    ``created_at`` unless given."""
    if status is PostStatus.PUBLISHED and published_at is None:
        published_at = created_at or datetime.now(UTC)
    post = await Post.create(
        author=author,
        title=title or f"Post {_next()}",
        body=body,
        status=status,
        tags=list(tags),
        **_when(created_at),
        published_at=published_at,
    )
    if tags:
        await PostTag.bulk_create([PostTag(post_id=post.id, tag=tag) for tag in tags])
    return post


async def create_comment(
    post: Post, author: User, *, body: str | None = None, created_at: datetime | None = None
) -> Comment:
    return await Comment.create(
        post=post, author=author, body=body or f"Comment {_next()}", **_when(created_at)
    )


async def create_comments(
    post: Post, authors: Iterable[User], *, start: datetime | None = None
) -> list[Comment]:
    """One comment per author, in one INSERT; with ``start`` the k-th is created ``k``
    seconds after it. Ids are not read back: reload the rows if a test needs them."""
    rows = [
        Comment(
            post_id=post.id,
            author_id=author.id,
            body=f"Comment {_next()}",
            **_when(None if start is None else start + timedelta(seconds=k)),
        )
        for k, author in enumerate(authors)
    ]
    await Comment.bulk_create(rows)
    return rows


async def create_product(
    seller: User,
    *,
    name: str | None = None,
    description: str = "A fine thing.",
    price_cents: int = 1_000,
    stock: int = 10,
    status: ProductStatus = ProductStatus.ACTIVE,
    created_at: datetime | None = None,
) -> Product:
    return await Product.create(
        seller=seller,
        name=name or f"Product {_next()}",
        description=description,
        price_cents=price_cents,
        stock=stock,
        status=status,
        **_when(created_at),
    )


async def create_order(
    buyer: User,
    lines: Sequence[tuple[Product, int]],
    *,
    status: OrderStatus = OrderStatus.PAID,
    created_at: datetime | None = None,
) -> Order:
    """An order with one item per (product, quantity), priced at the product's price; no
    stock or wallet changes (use the placeOrder mutation for those)."""
    order = await Order.create(
        buyer=buyer,
        status=status,
        total_cents=sum(product.price_cents * quantity for product, quantity in lines),
        **_when(created_at),
    )
    await OrderItem.bulk_create(
        [
            OrderItem(
                order_id=order.id,
                product_id=product.id,
                quantity=quantity,
                unit_price_cents=product.price_cents,
            )
            for product, quantity in lines
        ]
    )
    return order


async def create_transfer(
    sender: User,
    receiver: User,
    *,
    amount_cents: int = 500,
    note: str | None = None,
    created_at: datetime | None = None,
) -> Transfer:
    """A transfer row only (balances and ledger untouched: use the mutation for those)."""
    return await Transfer.create(
        sender=sender,
        receiver=receiver,
        amount_cents=amount_cents,
        note=note,
        **_when(created_at),
    )


def bearer(client: httpx.AsyncClient, user: User) -> dict[str, str]:
    """``Authorization`` headers with an access token issued by the client's app, as the
    login mutation would (without the password check and its throttling)."""
    container: Container = client.container  # type: ignore[attr-defined]
    token = issue_access_token(container.settings, user, uuid.uuid4())
    return {"Authorization": f"Bearer {token}"}
