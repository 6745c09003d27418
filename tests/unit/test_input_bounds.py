"""What the database can hold: ``text_problem`` refuses NUL, unpaired surrogates and strings
over their limit (and nothing else); ``datetime_problem`` refuses aware date-times whose UTC
value leaves the years 1-9999; ``column_problem`` checks a cursor value against its column's
constraints. The Decimal and DateTime scalars apply these bounds as BAD_USER_INPUT."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from tortoise import fields

from services.errors import BadUserInput
from services.input_bounds import (
    BIGINT_MAX,
    STRING_MAX,
    column_problem,
    datetime_problem,
    text_problem,
)
from services.money import DECIMAL_LIMIT
from vocabulary.scalars import parse_datetime, parse_decimal

# text_problem


@pytest.mark.parametrize(
    "value",
    [
        "",
        "plain text",
        "x" * STRING_MAX,
        "tab\tnew line\ncarriage return\r",
        "other controls \x01\x1b[31m\x7f are stored as sent",
        "a pair of surrogates is one character: \U0001f600",
        "\ufffd\uffff",
    ],
)
def test_text_that_the_database_can_hold_has_no_problem(value):
    assert text_problem(value) is None


def test_a_nul_character_is_refused():
    assert text_problem("a\x00b") == "must not contain NUL characters (\\u0000)"


@pytest.mark.parametrize("value", ["\ud800", "x\udfff", "\udc00\ud800"])
def test_an_unpaired_surrogate_is_refused(value):
    assert text_problem(value) == "must be valid Unicode (it contains an unpaired surrogate)"


def test_text_over_its_limit_is_refused_with_its_length():
    assert text_problem("x" * 31, 30) == "must be at most 30 characters long (got 31)"
    assert text_problem("x" * 30, 30) is None


def test_every_string_has_the_general_limit():
    assert text_problem("x" * (STRING_MAX + 1)) is not None


# datetime_problem


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00+14:00",  # year 0 in UTC
        "9999-12-31T23:59:59-14:00",  # year 10000 in UTC
        "0001-01-01T00:00:00.999999+00:01",
    ],
)
def test_an_aware_datetime_outside_the_years_1_to_9999_in_utc_is_refused(value):
    assert datetime_problem(datetime.fromisoformat(value)) is not None


@pytest.mark.parametrize(
    "value",
    [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1, 1, 1, 14, tzinfo=timezone(timedelta(hours=14))),
        datetime(1, 1, 1),
        datetime(9999, 12, 31, 23, 59),
    ],
)
def test_datetimes_within_the_years_1_to_9999_in_utc_have_no_problem(value):
    assert datetime_problem(value) is None


# column_problem


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (fields.BigIntField(), BIGINT_MAX + 1),
        (fields.BigIntField(), -BIGINT_MAX - 2),
        (fields.BigIntField(), 2**64 - 1),  # orjson still reads this one as an int
        (fields.IntField(), 2**31),
        (fields.CharField(max_length=200), "x" * 201),
        (fields.CharField(max_length=200), "a\x00b"),
        (fields.DatetimeField(), datetime.fromisoformat("0001-01-01T00:00:00+14:00")),
    ],
)
def test_a_value_its_column_cannot_hold_is_refused(field, value):
    assert column_problem(field, value) is not None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (fields.BigIntField(), BIGINT_MAX),
        (fields.BigIntField(), -BIGINT_MAX - 1),
        (fields.IntField(), 2**31 - 1),
        (fields.CharField(max_length=200), "x" * 200),
        (fields.DatetimeField(), datetime(2026, 1, 1, tzinfo=UTC)),
    ],
)
def test_a_value_its_column_can_hold_has_no_problem(field, value):
    assert column_problem(field, value) is None


# the Decimal scalar


def test_the_decimal_limit_is_the_largest_amount_whose_cents_fit_a_bigint():
    assert Decimal("92233720368547758.07") == DECIMAL_LIMIT
    assert int(DECIMAL_LIMIT * 100) == BIGINT_MAX


@pytest.mark.parametrize("value", ["92233720368547758.07", "-92233720368547758.07", "1e-30"])
def test_a_decimal_within_the_limit_is_parsed(value):
    assert parse_decimal(value) == Decimal(value)


@pytest.mark.parametrize(
    "value",
    ["92233720368547758.08", "-92233720368547758.08", "1e30", 1e300, "1e999999999", "-1e999999999"],
)
def test_a_decimal_beyond_the_limit_is_bad_user_input(value):
    with pytest.raises(BadUserInput, match="Decimal must be between"):
        parse_decimal(value)


# the DateTime scalar


def test_an_iso_datetime_is_parsed_with_its_offset():
    assert parse_datetime("2026-01-01T00:00:00+02:00") == datetime(2025, 12, 31, 22, tzinfo=UTC)
    assert parse_datetime("2026-01-01T00:00:00Z") == datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0001-01-01T00:00:00+14:00", "DateTime is out of range"),
        ("9999-12-31T23:59:59-14:00", "DateTime is out of range"),
        ("garbage", "DateTime must be an ISO 8601 date and time"),
        ("2026-13-01T00:00:00Z", "DateTime must be an ISO 8601 date and time"),
        (5, "DateTime must be a string"),
        (None, "DateTime must be a string"),
    ],
)
def test_a_datetime_that_cannot_be_stored_is_bad_user_input(value, message):
    with pytest.raises(BadUserInput, match=message):
        parse_datetime(value)
