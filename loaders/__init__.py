"""DataLoaders, built fresh for each request (each operation on websockets)."""

from __future__ import annotations

from functools import cached_property

from loaders.catalogue import CatalogueLoaders
from loaders.files import FileLoaders
from loaders.orders import OrderLoaders
from loaders.posts import PostLoaders
from loaders.users import UserLoaders
from services.cache import ModelCache


class Loaders:
    """Every loader of one request; batching and caching last as long as it does. Each group
    is built the first time the request uses it: most requests use one or two of them, and
    ``{ __typename }`` or a response cache miss that fails validation none."""

    # Each domain's loaders are built when first used: a context is made for every request,
    # websocket connection, operation and subscription event, and most touch one or two
    # domains (an idle subscriber's contexts held 24 unused DataLoaders).

    def __init__(self, cache: ModelCache | None = None) -> None:
        self._cache = cache

    @cached_property
    def users(self) -> UserLoaders:
        return UserLoaders(self._cache)

    @cached_property
    def posts(self) -> PostLoaders:
        return PostLoaders()

    @cached_property
    def catalogue(self) -> CatalogueLoaders:
        return CatalogueLoaders(self._cache)

    @cached_property
    def orders(self) -> OrderLoaders:
        return OrderLoaders()

    @cached_property
    def files(self) -> FileLoaders:
        return FileLoaders()
