"""Cache invalidation, called by mutations after their service committed: the one place that
says "entity X changed" (the model cache, the request's loaders, the response cache)."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from typing import Any

from strawberry.dataloader import DataLoader

from services.response_cache import changed_tags
from vocabulary.context import Info


async def entities_changed(info: Info, type_name: str, ids: Iterable[int]) -> None:
    """Drops the cached responses showing these entities, and every cached list page."""
    response_cache = info.context.container.response_cache
    if response_cache.enabled:
        await response_cache.invalidate(changed_tags(type_name, ids))


async def posts_changed(info: Info, post_ids: Iterable[int]) -> None:
    ids = list(post_ids)
    await entities_changed(info, "Post", ids)
    for post_id in ids:
        _forget(info.context.loaders.posts.by_id, post_id)


async def comments_changed(info: Info, comment_ids: Iterable[int], *, post_ids: list[int]) -> None:
    """A comment changes its post too (``commentCount``, ``comments``)."""
    await entities_changed(info, "Comment", comment_ids)
    await posts_changed(info, post_ids)


async def users_changed(info: Info, user_ids: Iterable[int]) -> None:
    ids = list(user_ids)
    await entities_changed(info, "User", ids)
    await info.context.container.cache.forget("users", ids)
    for user_id in ids:
        _forget(info.context.loaders.users.by_id, user_id)


async def products_changed(info: Info, product_ids: Iterable[int]) -> None:
    ids = list(product_ids)
    cache = info.context.container.cache
    await entities_changed(info, "Product", ids)
    await cache.forget("products", ids)
    await cache.bump_version("product_pages")
    for product_id in ids:
        _forget(info.context.loaders.catalogue.products_by_id, product_id)


def _forget(loader: DataLoader[int, Any], key: int) -> None:
    # Strawberry's DataLoader.clear raises KeyError for a key it never loaded.
    with suppress(KeyError):
        loader.clear(key)
