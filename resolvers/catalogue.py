"""Product queries and mutations."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tortoise.queryset import QuerySet

from models.catalogue import Product
from resolvers.invalidation import products_changed
from resolvers.prefetch import prefetch_one, prefetch_page
from services import catalogue
from services.cache import model_row, rebuild_model
from services.errors import BadUserInput
from services.pagination import Ordering, Page, PageArgs, page_of, paginate
from vocabulary.arguments import given
from vocabulary.connections import Connection
from vocabulary.context import Info
from vocabulary.enums import OrderDirection, ProductOrderField
from vocabulary.inputs import CreateProductInput, ProductFilter, UpdateProductInput
from vocabulary.relay import int_pk, optional_int_pk


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
    product = await info.context.loaders.catalogue.products_by_id.load(product_id)
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
    ordering = Ordering(order_by.value, direction.descending)
    if info.context.user is None and page.after is None and not page.backward:
        result = await _cached_first_page(info, query, ordering, page, criteria)
    else:
        result = await paginate(query, ordering, page)
    return await prefetch_page(info, result)


async def _cached_first_page(
    info: Info,
    query: QuerySet[Product],
    ordering: Ordering,
    page: PageArgs,
    criteria: ProductFilter,
) -> Page[Product]:
    """Anonymous first pages are the same for everyone: served from the cache."""
    cache = info.context.container.cache
    arguments = [
        ordering.field,
        ordering.descending,
        page.validated().size,
        [given(getattr(criteria, name)) for name in _FILTER_FIELDS],
    ]
    key = await cache.page_key("product_pages", arguments)
    cached = await cache.get_page("product_pages", key)
    if cached is not None:
        products = [rebuild_model(Product, row) for row in cached["rows"]]
        result = page_of(products, ordering, page.size, query.count)
        result.has_next_page = cached["has_next"]
        return result
    result = await paginate(query, ordering, page)
    await cache.put_page(
        "product_pages",
        key,
        {
            "rows": [model_row(product) for product in result.items],
            "has_next": result.has_next_page,
        },
    )
    return result


_FILTER_FIELDS = ("search", "min_price", "max_price", "in_stock", "seller_id", "status")


async def create_product(info: Info, data: CreateProductInput) -> Product:
    product = await catalogue.create_product(
        info.context.require_user(), data.name, data.description, data.price, data.stock
    )
    await products_changed(info, [product.id])
    await prefetch_one(info, product)
    return product


async def update_product(info: Info, global_id: str, data: UpdateProductInput) -> Product:
    changes = catalogue.ProductChanges(
        given(data.name), given(data.description), given(data.price), given(data.stock)
    )
    product = await catalogue.update_product(int_pk(global_id, "Product"), changes)
    await products_changed(info, [product.id])
    await prefetch_one(info, product)
    return product


async def archive_product(info: Info, global_id: str) -> Product:
    product = await catalogue.archive_product(int_pk(global_id, "Product"))
    await products_changed(info, [product.id])
    await prefetch_one(info, product)
    return product
