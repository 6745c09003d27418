"""Cache invalidation, called by mutations after their service committed: the process's
shared caches through the container's ``EntityChanges`` (``services/entity_changes.py``, the one
hook every writer calls), and the request's own loaders."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from typing import Any

from strawberry.dataloader import DataLoader

from vocabulary.context import Info


async def posts_changed(info: Info, post_ids: Iterable[int]) -> None:
    ids = list(post_ids)
    await info.context.container.changes.changed("Post", ids)
    for post_id in ids:
        _forget(info.context.loaders.posts.by_id, post_id)


async def comments_changed(info: Info, comment_ids: Iterable[int], *, post_ids: list[int]) -> None:
    """A comment changes its post too (``commentCount``, ``comments``)."""
    await info.context.container.changes.comments_changed(comment_ids, post_ids)
    for post_id in post_ids:
        _forget(info.context.loaders.posts.by_id, post_id)


async def users_changed(info: Info, user_ids: Iterable[int]) -> None:
    ids = list(user_ids)
    await info.context.container.changes.changed("User", ids)
    for user_id in ids:
        _forget(info.context.loaders.users.by_id, user_id)


async def products_changed(info: Info, product_ids: Iterable[int]) -> None:
    ids = list(product_ids)
    await info.context.container.changes.changed("Product", ids)
    for product_id in ids:
        _forget(info.context.loaders.catalogue.products_by_id, product_id)


def _forget(loader: DataLoader[int, Any], key: int) -> None:
    # Strawberry's DataLoader.clear raises KeyError for a key it never loaded.
    with suppress(KeyError):
        loader.clear(key)
