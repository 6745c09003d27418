"""Scalars: Decimal is money, serialised as a string with two decimals ("12.50"); DateTime is
ISO 8601. Both refuse, as BAD_USER_INPUT, values the database cannot hold."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import strawberry
from strawberry.types.scalar import ScalarDefinition

from services.errors import BadUserInput
from services.input_bounds import datetime_problem
from services.money import DECIMAL_LIMIT

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
    # copy_abs, not abs(): abs() rounds to the context and overflows on "1e999999999".
    if parsed.copy_abs() > DECIMAL_LIMIT:
        raise BadUserInput(f"Decimal must be between -{DECIMAL_LIMIT} and {DECIMAL_LIMIT}")
    return parsed


def serialize_datetime(value: datetime) -> str:
    return value.isoformat()


def parse_datetime(value: Any) -> datetime:
    """An ISO 8601 date-time (``2026-01-01T00:00:00Z``) the database can store."""
    if not isinstance(value, str):
        raise BadUserInput('DateTime must be a string such as "2026-01-01T00:00:00Z"')
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise BadUserInput(
            'DateTime must be an ISO 8601 date and time such as "2026-01-01T00:00:00Z"'
        ) from exc
    problem = datetime_problem(parsed)
    if problem is not None:
        raise BadUserInput(f"DateTime {problem}")
    return parsed


DecimalScalar: ScalarDefinition = strawberry.scalar(
    name="Decimal",
    description='A decimal number serialised as a string with two decimals, e.g. "12.50".',
    serialize=serialize_decimal,
    parse_value=parse_decimal,
)

DateTimeScalar: ScalarDefinition = strawberry.scalar(
    name="DateTime",
    description="Date with time (isoformat)",
    serialize=serialize_datetime,
    parse_value=parse_datetime,
)

SCALAR_MAP: dict[object, ScalarDefinition] = {Decimal: DecimalScalar, datetime: DateTimeScalar}
