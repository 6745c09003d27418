"""What the relation fields of ``schema/types`` are loaded with: the DataLoader each reads,
the first pages of nested connections for a whole level, and the avatars. Each field names
its own in ``metadata=prefetched(...)`` (``resolvers/prefetch.py``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

from strawberry.dataloader import DataLoader
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from loaders import Loaders
from loaders.level import traced_batch
from loaders.pages import first_rows_per_parent
from models.catalogue import Product
from models.files import File
from models.orders import Order, OrderItem
from models.posts import Comment, Post, PostStatus
from models.user import User
from resolvers.attachments import attach_each, slot
from resolvers.orders import ORDER_ORDER
from resolvers.posts import COMMENT_ORDER, USER_POSTS_ORDER
from resolvers.prefetch import prefetch
from resolvers.selection import FieldSelection, subfields
from services import orders, posts
from services.pagination import Page, PageArgs, page_of
from vocabulary.context import Context, Info

# --- the DataLoaders a level reads (``to_one``, ``per_item``, ``to_many``) ----------------


def users_by_id(loaders: Loaders) -> DataLoader[int, User | None]:
    return loaders.users.by_id


def posts_by_id(loaders: Loaders) -> DataLoader[int, Post | None]:
    return loaders.posts.by_id


def products_by_id(loaders: Loaders) -> DataLoader[int, Product | None]:
    return loaders.catalogue.products_by_id


def comment_counts(loaders: Loaders) -> DataLoader[int, int]:
    return loaders.posts.comment_count


def published_post_counts(loaders: Loaders) -> DataLoader[int, int]:
    return loaders.posts.published_count_by_author


def order_items(loaders: Loaders) -> DataLoader[int, list[OrderItem]]:
    return loaders.orders.items_by_order


def product_images(loaders: Loaders) -> DataLoader[int, list[File]]:
    return loaders.files.images_by_product


async def avatars(info: Info, items: list[User], field: FieldSelection) -> None:
    """``User.avatar`` for a whole level: one statement for every avatar."""
    ids = sorted({user.avatar_id for user in items if user.avatar_id is not None})
    loader = info.context.loaders.files.by_id
    files = await loader.load_many(ids) if ids else []
    by_id = dict(zip(ids, files, strict=True))
    attach_each(
        items,
        slot(field.nodes),
        [by_id.get(user.avatar_id) if user.avatar_id is not None else None for user in items],
    )
    await prefetch(info, [file for file in files if file is not None], subfields(field))


# --- first pages of nested connections for a whole level (``to_connection``) ----------


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

    return DataLoader(load_fn=traced_batch(count, f"{column} counts")).load


async def comments_pages(
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


async def user_posts_pages(
    context: Context, items: list[User], arguments: dict[str, Any]
) -> dict[int, Page[Any]] | None:
    size = _first_page_size(arguments)
    if size is None:
        return None
    viewer = context.user
    context.note_owners(user.id for user in items)
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


async def user_orders_pages(
    context: Context, items: list[User], arguments: dict[str, Any]
) -> dict[int, Page[Any]] | None:
    size = _first_page_size(arguments)
    if size is None:
        return None
    viewer = context.user
    context.note_owners(user.id for user in items)
    readable = [user.id for user in items if orders.can_read_orders_of(viewer, user.id)]
    rows = await first_rows_per_parent(Order, "buyer_id", readable, ORDER_ORDER, size)
    count = _counts_by(Order.filter(buyer_id__in=readable), "buyer_id")
    return {
        user.id: page_of(rows.get(user.id, []), ORDER_ORDER, size, partial(count, user.id))
        for user in items
    }
