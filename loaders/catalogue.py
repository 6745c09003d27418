"""Products by id (through the cache)."""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from loaders.level import level_loader
from models.catalogue import Product
from services.cache import ModelCache


async def load_products(
    ids: Sequence[int], cache: ModelCache | None = None
) -> list[Product | None]:
    if cache is not None:
        return await cache.models_by_id("products", Product, ids)
    found = {product.id: product for product in await Product.filter(id__in=list(ids))}
    return [found.get(product_id) for product_id in ids]


class CatalogueLoaders:
    def __init__(self, cache: ModelCache | None = None) -> None:
        async def load(ids: Sequence[int]) -> list[Product | None]:
            return await load_products(ids, cache)

        self.products_by_id: DataLoader[int, Product | None] = level_loader(
            load, "catalogue.load_products"
        )
