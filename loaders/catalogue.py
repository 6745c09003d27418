"""Products by id."""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from models.catalogue import Product


async def load_products(ids: Sequence[int]) -> list[Product | None]:
    found = {product.id: product for product in await Product.filter(id__in=list(ids))}
    return [found.get(product_id) for product_id in ids]


class CatalogueLoaders:
    def __init__(self) -> None:
        self.products_by_id: DataLoader[int, Product | None] = DataLoader(load_fn=load_products)
