"""Which relation of which model ``prefetch`` loads, and how: one place for the whole
object graph (imported once by the schema)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

from strawberry.dataloader import DataLoader
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from loaders.pages import first_rows_per_parent
from models.catalogue import Product
from models.files import File
from models.orders import Order, OrderItem
from models.posts import Comment, Post, PostStatus
from models.user import User
from models.wallet import Transfer
from resolvers.files import prefetch_avatars
from resolvers.orders import ORDER_ORDER
from resolvers.posts import COMMENT_ORDER, USER_POSTS_ORDER
from resolvers.prefetch import RELATIONS, per_item, to_connection, to_many, to_one
from services import orders, posts
from services.pagination import Page, PageArgs, page_of
from services.stats import CustomerStats
from vocabulary.context import Context


def _int_argument(arguments: dict[str, Any], name: str) -> int | None:
    """Strawberry's SelectedField gives literals as their source text ("5") and variables
    as values; validation already made sure either is an Int."""
    value = arguments.get(name)
    return None if value is None else int(value)


def _first_page_size(arguments: dict[str, Any]) -> int | None:
    """The page size when every parent can share one statement (``first`` only), else None:
    cursors and ``last`` take the per-parent fallback."""
    args = PageArgs(
        _int_argument(arguments, "first"),
        arguments.get("after"),
        _int_argument(arguments, "last"),
        arguments.get("before"),
    ).validated()
    if args.backward or args.after is not None:
        return None
    return args.size


def _counts_by(queryset: QuerySet[Any], column: str) -> Callable[[int], Awaitable[int]]:
    """``totalCount`` of every parent of a level in ONE grouped COUNT, run only when some
    page's ``totalCount`` is selected (a loader per level: the queryset is the viewer's)."""

    async def count(parent_ids: Sequence[int]) -> list[int]:
        rows = (
            await queryset.filter(**{f"{column}__in": list(parent_ids)})
            .annotate(total=Count("id"))
            .group_by(column)
            .values(column, "total")
        )
        counts = {row[column]: row["total"] for row in rows}
        return [counts.get(parent_id, 0) for parent_id in parent_ids]

    return DataLoader(load_fn=count).load


async def _comments_pages(
    context: Context, items: list[Post], arguments: dict[str, Any]
) -> dict[int, Page[Any]] | None:
    size = _first_page_size(arguments)
    if size is None:
        return None
    rows = await first_rows_per_parent(
        Comment, "post_id", [post.id for post in items], COMMENT_ORDER, size
    )
    count = context.loaders.posts.comment_count.load
    return {
        post.id: page_of(rows.get(post.id, []), COMMENT_ORDER, size, partial(count, post.id))
        for post in items
    }


async def _user_posts_pages(
    context: Context, items: list[User], arguments: dict[str, Any]
) -> dict[int, Page[Any]] | None:
    size = _first_page_size(arguments)
    if size is None:
        return None
    viewer = context.user
    status = PostStatus(arguments["status"]) if arguments.get("status") else None
    visibility = posts.PostVisibility.of(viewer)
    where = visibility.sql("t")
    if status is not None:
        where += f" AND t.\"status\" = '{PostStatus(status).value}'"
    rows = await first_rows_per_parent(
        Post, "author_id", [user.id for user in items], USER_POSTS_ORDER, size, where
    )
    visible = visibility.queryset()
    count = _counts_by(visible if status is None else visible.filter(status=status), "author_id")
    return {
        user.id: page_of(rows.get(user.id, []), USER_POSTS_ORDER, size, partial(count, user.id))
        for user in items
    }


async def _user_orders_pages(
    context: Context, items: list[User], arguments: dict[str, Any]
) -> dict[int, Page[Any]] | None:
    size = _first_page_size(arguments)
    if size is None:
        return None
    viewer = context.user
    readable = [user.id for user in items if orders.can_read_orders_of(viewer, user.id)]
    rows = await first_rows_per_parent(Order, "buyer_id", readable, ORDER_ORDER, size)
    count = _counts_by(Order.filter(buyer_id__in=readable), "buyer_id")
    return {
        user.id: page_of(rows.get(user.id, []), ORDER_ORDER, size, partial(count, user.id))
        for user in items
    }


def _users(context: Context) -> Any:
    return context.loaders.users.by_id


RELATIONS.update(
    {
        User: {
            "postCount": per_item(lambda c: c.loaders.posts.published_count_by_author),
            "posts": to_connection(_user_posts_pages),
            "orders": to_connection(_user_orders_pages),
        },
        Post: {
            "author": to_one("author_id", _users),
            "commentCount": per_item(lambda c: c.loaders.posts.comment_count),
            "comments": to_connection(_comments_pages),
        },
        Comment: {
            "author": to_one("author_id", _users),
            "post": to_one("post_id", lambda c: c.loaders.posts.by_id),
        },
        Product: {"seller": to_one("seller_id", _users)},
        Order: {
            "buyer": to_one("buyer_id", _users),
            "items": to_many(lambda c: c.loaders.orders.items_by_order),
        },
        OrderItem: {"product": to_one("product_id", lambda c: c.loaders.catalogue.products_by_id)},
        Transfer: {"from": to_one("sender_id", _users), "to": to_one("receiver_id", _users)},
        CustomerStats: {"user": to_one("user_id", _users)},
    }
)

# Files: avatars (one statement per level), product images (one JOIN), file owners.
RELATIONS[User]["avatar"] = prefetch_avatars
RELATIONS[Product]["images"] = to_many(lambda c: c.loaders.files.images_by_product)
RELATIONS[File] = {"owner": to_one("owner_id", _users)}
