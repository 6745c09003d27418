"""Product queries and mutations."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from models.catalogue import Product
from resolvers.prefetch import prefetch_one, prefetch_page
from schema.arguments import given
from schema.connections import Connection
from schema.context import Info
from schema.enums import OrderDirection, ProductOrderField
from schema.inputs import CreateProductInput, ProductFilter, UpdateProductInput
from schema.relay import int_pk, optional_int_pk
from services import catalogue
from services.errors import BadUserInput, NotFound
from services.pagination import Ordering, PageArgs, paginate


def _price_bound(name: str, value: Decimal | None) -> int | None:
    if value is None:
        return None
    if not value.is_finite() or value < 0:
        raise BadUserInput(f"`{name}` must be zero or more", argument=name)
    return int((value * 100).to_integral_value())


async def resolve_product(info: Info, global_id: str) -> Product | None:
    product_id = optional_int_pk(global_id, "Product")
    if product_id is None:
        return None
    try:
        product = await catalogue.get_product(product_id)
    except NotFound:
        return None
    await prefetch_one(info, product)
    return product


async def resolve_products(
    info: Info,
    page: PageArgs,
    filter: ProductFilter | None,
    order_by: ProductOrderField,
    direction: OrderDirection,
) -> Connection[Any]:
    criteria = filter or ProductFilter()
    seller_id = given(criteria.seller_id)
    query = catalogue.search_products(
        search=given(criteria.search),
        min_price_cents=_price_bound("minPrice", given(criteria.min_price)),
        max_price_cents=_price_bound("maxPrice", given(criteria.max_price)),
        in_stock=given(criteria.in_stock),
        seller_id=int_pk(seller_id, "User") if seller_id else None,
        status=given(criteria.status),
    )
    result = await paginate(query, Ordering(order_by.value, direction.descending), page)
    return await prefetch_page(info, result)


async def create_product(info: Info, data: CreateProductInput) -> Product:
    product = await catalogue.create_product(
        info.context.require_user(), data.name, data.description, data.price, data.stock
    )
    await prefetch_one(info, product)
    return product


async def update_product(info: Info, global_id: str, data: UpdateProductInput) -> Product:
    changes = catalogue.ProductChanges(
        given(data.name), given(data.description), given(data.price), given(data.stock)
    )
    product = await catalogue.update_product(int_pk(global_id, "Product"), changes)
    await prefetch_one(info, product)
    return product


async def archive_product(info: Info, global_id: str) -> Product:
    product = await catalogue.archive_product(int_pk(global_id, "Product"))
    await prefetch_one(info, product)
    return product
