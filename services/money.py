"""Money: integer cents inside, Decimal at the API (two decimals)."""

from __future__ import annotations

from decimal import Decimal

from services.input_bounds import BIGINT_MAX
from services.validation import Problems

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("1000000.00")
DECIMAL_LIMIT = Decimal(BIGINT_MAX).scaleb(-2)
"""The largest amount whose cents fit the BIGINT columns: the Decimal scalar's bound."""


def to_decimal(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def check_amount(problems: Problems, field_path: str, amount: Decimal) -> int:
    """Cents of a positive amount with at most two decimals (0 when it is invalid)."""
    if not amount.is_finite() or amount <= 0:
        problems.add(field_path, "Amount must be greater than 0")
        return 0
    # The upper bound first: quantize() raises InvalidOperation beyond 28 digits.
    if amount > MAX_AMOUNT:
        problems.add(field_path, f"Amount must be at most {MAX_AMOUNT}")
        return 0
    if amount != amount.quantize(CENT):
        problems.add(field_path, "Amount must have at most 2 decimals")
        return 0
    return int(amount * 100)
