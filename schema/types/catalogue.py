"""Product."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from models.catalogue import Product as ProductModel
from resolvers.prefetch import prefetched, to_many, to_one
from resolvers.relations import product_images, users_by_id
from services.files import MAX_PRODUCT_IMAGES
from services.money import to_decimal
from vocabulary.cache_hints import CATALOGUE_MAX_AGE, STOCK_MAX_AGE, cache_control
from vocabulary.context import Info
from vocabulary.directives import cost, list_size
from vocabulary.enums import ProductStatus
from vocabulary.relay import Node, to_global_id
from vocabulary.type_checks import decided_by_class

if TYPE_CHECKING:
    from schema.types.files import File
    from schema.types.user import User

UserRef = Annotated["User", strawberry.lazy("schema.types.user")]
FileRef = Annotated["File", strawberry.lazy("schema.types.files")]


@strawberry.type(
    name="Product",
    description="A product of the catalogue.",
    directives=[cache_control(max_age=CATALOGUE_MAX_AGE)],
)
class Product(Node):
    name: str
    description: str
    stock: int = strawberry.field(directives=[cache_control(max_age=STOCK_MAX_AGE)])
    status: ProductStatus
    created_at: datetime
    updated_at: datetime

    @classmethod
    @decided_by_class
    def is_type_of(cls, obj: object, _info: object) -> bool:
        return isinstance(obj, (ProductModel, cls))

    @strawberry.field  # type: ignore[misc]
    def id(self, root: strawberry.Parent[ProductModel]) -> strawberry.ID:  # type: ignore[override]
        return to_global_id("Product", root.id)

    @strawberry.field
    def price(self, root: strawberry.Parent[ProductModel]) -> Decimal:
        return to_decimal(root.price_cents)

    @strawberry.field(metadata=prefetched(to_one("seller_id", users_by_id)))
    async def seller(self, root: strawberry.Parent[ProductModel], info: Info) -> UserRef:
        return await info.context.loaders.users.by_id.load(
            root.seller_id  # type: ignore[return-value]
        )

    @strawberry.field(
        description="Images in the order they were added (addProductImage).",
        directives=[cost(1), list_size(assumed_size=MAX_PRODUCT_IMAGES)],
        metadata=prefetched(to_many(product_images)),
    )
    async def images(self, root: strawberry.Parent[ProductModel], info: Info) -> list[FileRef]:
        return await info.context.loaders.files.images_by_product.load(
            root.id  # type: ignore[return-value]
        )
