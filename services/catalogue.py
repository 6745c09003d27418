"""The product catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from models.catalogue import Product, ProductStatus
from models.user import User
from services.errors import NotFound
from services.money import check_amount
from services.sanitize import sanitize_line, sanitize_text
from services.validation import Problems

NAME_MIN, NAME_MAX = 2, 120
DESCRIPTION_MAX = 5_000
STOCK_MAX = 1_000_000


@dataclass(frozen=True, slots=True)
class ProductChanges:
    name: str | None = None
    description: str | None = None
    price: Decimal | None = None
    stock: int | None = None


def search_products(
    *,
    search: str | None = None,
    min_price_cents: int | None = None,
    max_price_cents: int | None = None,
    in_stock: bool | None = None,
    seller_id: int | None = None,
    status: ProductStatus | None = None,
) -> QuerySet[Product]:
    """The ``products`` list: ACTIVE products unless another status is asked for."""
    query = Product.filter(status=status or ProductStatus.ACTIVE)
    if search and (term := " ".join(search.split())):
        query = query.filter(Q(name__icontains=term) | Q(description__icontains=term))
    if min_price_cents is not None:
        query = query.filter(price_cents__gte=min_price_cents)
    if max_price_cents is not None:
        query = query.filter(price_cents__lte=max_price_cents)
    if in_stock is True:
        query = query.filter(stock__gt=0)
    elif in_stock is False:
        query = query.filter(stock=0)
    if seller_id is not None:
        query = query.filter(seller_id=seller_id)
    return query


def _check_name(problems: Problems, field: str, name: str) -> str:
    cleaned = sanitize_line(name)
    if not NAME_MIN <= len(cleaned) <= NAME_MAX:
        problems.add(field, f"Name must be {NAME_MIN} to {NAME_MAX} characters long")
    return cleaned


def _check_description(problems: Problems, field: str, description: str) -> str:
    cleaned = sanitize_text(description)
    if len(cleaned) > DESCRIPTION_MAX:
        problems.add(field, f"Description must be at most {DESCRIPTION_MAX} characters long")
    return cleaned


def _check_stock(problems: Problems, field: str, stock: int) -> int:
    if not 0 <= stock <= STOCK_MAX:
        problems.add(field, f"Stock must be between 0 and {STOCK_MAX}")
    return stock


async def get_product(product_id: int) -> Product:
    product = await Product.get_or_none(id=product_id)
    if product is None:
        raise NotFound("Product not found")
    return product


async def create_product(
    seller: User, name: str, description: str, price: Decimal, stock: int
) -> Product:
    problems = Problems()
    clean_name = _check_name(problems, "input.name", name)
    clean_description = _check_description(problems, "input.description", description)
    price_cents = check_amount(problems, "input.price", price)
    _check_stock(problems, "input.stock", stock)
    problems.raise_if_any()
    return await Product.create(
        seller=seller,
        name=clean_name,
        description=clean_description,
        price_cents=price_cents,
        stock=stock,
    )


async def update_product(product_id: int, changes: ProductChanges) -> Product:
    product = await get_product(product_id)
    problems = Problems()
    fields = ["updated_at"]
    if changes.name is not None:
        product.name = _check_name(problems, "input.name", changes.name)
        fields.append("name")
    if changes.description is not None:
        product.description = _check_description(problems, "input.description", changes.description)
        fields.append("description")
    if changes.price is not None:
        product.price_cents = check_amount(problems, "input.price", changes.price)
        fields.append("price_cents")
    if changes.stock is not None:
        product.stock = _check_stock(problems, "input.stock", changes.stock)
        fields.append("stock")
    problems.raise_if_any()
    await product.save(update_fields=fields)
    return product


async def archive_product(product_id: int) -> Product:
    product = await get_product(product_id)
    if product.status is not ProductStatus.ARCHIVED:
        product.status = ProductStatus.ARCHIVED
        await product.save(update_fields=["status", "updated_at"])
    return product
