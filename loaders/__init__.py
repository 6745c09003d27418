"""DataLoaders, built fresh for each request (each operation on websockets)."""

from __future__ import annotations

from loaders.catalogue import CatalogueLoaders
from loaders.files import FileLoaders
from loaders.orders import OrderLoaders
from loaders.posts import PostLoaders
from loaders.users import UserLoaders
from services.cache import ModelCache


class Loaders:
    """Every loader of one request; batching and caching last as long as it does."""

    def __init__(self, cache: ModelCache | None = None) -> None:
        self.users = UserLoaders(cache)
        self.posts = PostLoaders()
        self.catalogue = CatalogueLoaders(cache)
        self.orders = OrderLoaders()
        self.files = FileLoaders()
