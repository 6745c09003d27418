"""Money: integer cents inside, Decimal with two decimals at the API. ``to_decimal`` turns
cents into an exact two-decimal amount; ``check_amount`` accepts a positive amount of at
most two decimals up to the maximum and reports any other value as a field problem."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.money import MAX_AMOUNT, check_amount, to_decimal
from services.validation import Problems

FIELD = "input.amount"


def checked(amount: str | Decimal) -> tuple[int, dict[str, str]]:
    """The cents ``check_amount`` returns and the problems it recorded ({field: message})."""
    problems = Problems()
    cents = check_amount(problems, FIELD, Decimal(amount))
    return cents, {problem.field: problem.message for problem in problems.items}


# to_decimal


@pytest.mark.parametrize(
    ("cents", "expected"),
    [
        (0, "0.00"),
        (1, "0.01"),
        (5, "0.05"),
        (10, "0.10"),
        (1250, "12.50"),
        (100_000_000, "1000000.00"),
        (-5, "-0.05"),
        (-2899, "-28.99"),
    ],
)
def test_to_decimal_gives_exactly_two_decimals(cents, expected):
    amount = to_decimal(cents)

    assert isinstance(amount, Decimal)
    assert str(amount) == expected
    assert amount.as_tuple().exponent == -2


def test_to_decimal_is_exact_for_the_largest_bigint():
    assert to_decimal(2**63 - 1) == Decimal("92233720368547758.07")


@pytest.mark.parametrize("cents", [0, 1, 99, 100, 1250, 123_456_789, -1, -100_001])
def test_to_decimal_loses_no_cent(cents):
    assert int(to_decimal(cents) * 100) == cents


@pytest.mark.parametrize("cents", [1, 99, 100, 1250, 100_000_000])
def test_an_amount_the_api_shows_is_accepted_back_as_the_same_cents(cents):
    assert checked(to_decimal(cents)) == (cents, {})


# check_amount: accepted amounts


@pytest.mark.parametrize(
    ("amount", "cents"),
    [
        ("0.01", 1),
        ("1", 100),
        ("12.5", 1250),
        ("12.50", 1250),
        ("12.500", 1250),  # trailing zeros are not extra decimals
        ("99.99", 9999),
        ("1E+2", 10_000),
        ("1000000.00", 100_000_000),
    ],
)
def test_check_amount_returns_the_cents_of_a_valid_amount(amount, cents):
    assert checked(amount) == (cents, {})


def test_check_amount_accepts_exactly_the_maximum():
    assert checked(MAX_AMOUNT) == (int(MAX_AMOUNT * 100), {})


# check_amount: refused amounts


@pytest.mark.parametrize("amount", ["0", "0.00", "-0", "-0.01", "-12.50", "-1E+30"])
def test_zero_and_negative_amounts_are_refused(amount):
    assert checked(amount) == (0, {FIELD: "Amount must be greater than 0"})


@pytest.mark.parametrize("amount", ["NaN", "sNaN", "Infinity", "-Infinity"])
def test_non_finite_amounts_are_refused(amount):
    assert checked(amount) == (0, {FIELD: "Amount must be greater than 0"})


@pytest.mark.parametrize("amount", ["0.001", "12.345", "0.015", "1E-30", "999999.999"])
def test_more_than_two_decimals_are_refused(amount):
    assert checked(amount) == (0, {FIELD: "Amount must have at most 2 decimals"})


@pytest.mark.parametrize("amount", ["1000000.01", "1000001", "1E+7"])
def test_amounts_over_the_maximum_are_refused(amount):
    assert checked(amount) == (0, {FIELD: "Amount must be at most 1000000.00"})


@pytest.mark.parametrize("amount", ["1E+26", "1E+30", "123456789012345678901234567.5", "1E+999999"])
def test_huge_amounts_are_a_problem_not_a_crash(amount):
    """Beyond 28 digits ``Decimal.quantize`` raises InvalidOperation: the bound must be
    checked first so the caller gets a field problem (VALIDATION_ERROR), not a 500."""
    assert checked(amount) == (0, {FIELD: "Amount must be at most 1000000.00"})


def test_check_amount_records_the_problem_without_raising():
    problems = Problems()
    problems.add("input.note", "Note is too long")

    assert check_amount(problems, "amount", Decimal("-1")) == 0

    assert [(p.field, p.message) for p in problems.items] == [
        ("input.note", "Note is too long"),
        ("amount", "Amount must be greater than 0"),
    ]


def test_one_amount_gets_at_most_one_problem():
    _, problems = checked("-0.001")

    assert problems == {FIELD: "Amount must be greater than 0"}
