"""Scalars: Decimal is money, serialised as a string with two decimals ("12.50")."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import strawberry
from strawberry.types.scalar import ScalarDefinition

from services.errors import BadUserInput

CENT = Decimal("0.01")


def serialize_decimal(value: Decimal | int | str) -> str:
    return str(Decimal(value).quantize(CENT))


def parse_decimal(value: Any) -> Decimal:
    """A client's amount; anything else is BAD_USER_INPUT (a bare ValueError would reach
    the client as INTERNAL_SERVER_ERROR, masked in production)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise BadUserInput('Decimal must be a string such as "12.50"')
    try:
        parsed = Decimal(str(value))
    except InvalidOperation as exc:
        raise BadUserInput(f"'{value}' is not a decimal number") from exc
    if not parsed.is_finite():
        raise BadUserInput("Decimal must be a finite number")
    return parsed


DecimalScalar: ScalarDefinition = strawberry.scalar(
    name="Decimal",
    description='A decimal number serialised as a string with two decimals, e.g. "12.50".',
    serialize=serialize_decimal,
    parse_value=parse_decimal,
)

SCALAR_MAP: dict[object, ScalarDefinition] = {Decimal: DecimalScalar}
