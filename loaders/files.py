"""Files by id (avatars) and the images of products, one statement per batch."""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from loaders.level import level_loader
from models.files import File, ProductImage


async def load_files(ids: Sequence[int]) -> list[File | None]:
    found = {file.id: file for file in await File.filter(id__in=list(ids))}
    return [found.get(file_id) for file_id in ids]


async def load_product_images(product_ids: Sequence[int]) -> list[list[File]]:
    """Each product's images in the order they were added (one JOIN for all products)."""
    rows = (
        await ProductImage.filter(product_id__in=list(product_ids))
        .select_related("file")
        .order_by("created_at", "id")
    )
    images: dict[int, list[File]] = {product_id: [] for product_id in product_ids}
    for row in rows:
        images[row.product_id].append(row.file)
    return [images[product_id] for product_id in product_ids]


class FileLoaders:
    def __init__(self) -> None:
        self.by_id: DataLoader[int, File | None] = level_loader(load_files)
        self.images_by_product: DataLoader[int, list[File]] = level_loader(
            load_fn=load_product_images
        )
