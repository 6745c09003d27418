"""Cache invalidation, called by mutations after their service committed."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from typing import Any

from strawberry.dataloader import DataLoader

from vocabulary.context import Info


async def users_changed(info: Info, user_ids: Iterable[int]) -> None:
    ids = list(user_ids)
    await info.context.container.cache.forget("users", ids)
    for user_id in ids:
        _forget(info.context.loaders.users.by_id, user_id)


async def products_changed(info: Info, product_ids: Iterable[int]) -> None:
    ids = list(product_ids)
    cache = info.context.container.cache
    await cache.forget("products", ids)
    await cache.bump_version("product_pages")
    for product_id in ids:
        _forget(info.context.loaders.catalogue.products_by_id, product_id)


def _forget(loader: DataLoader[int, Any], key: int) -> None:
    # Strawberry's DataLoader.clear raises KeyError for a key it never loaded.
    with suppress(KeyError):
        loader.clear(key)
