"""services.pagination without a database: opaque cursors that round-trip their sort value
(datetimes included) and refuse anything malformed as BAD_USER_INPUT; PageArgs validation and
its size/direction rules; ``page_of`` for pages fetched in bulk."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest

from services.errors import BadUserInput, ErrorCode
from services.pagination import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Ordering,
    Page,
    PageArgs,
    decode_cursor,
    encode_cursor,
    page_of,
)

# --- cursors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        0,
        1250,
        -7,
        "Teapot",
        "",
        'naïve ☕ with "quotes" and / slashes',
        datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2024, 1, 1, tzinfo=UTC),
        datetime(2024, 6, 1, 8, 30, tzinfo=timezone(timedelta(hours=2))),
    ],
)
def test_a_cursor_round_trips_its_value_and_id(value: Any) -> None:
    decoded_value, pk = decode_cursor(encode_cursor(value, 42))
    assert decoded_value == value
    assert type(decoded_value) is type(value)
    assert pk == 42


def test_a_datetime_cursor_keeps_microseconds_and_the_offset() -> None:
    when = datetime(2024, 6, 1, 8, 30, 15, 123456, tzinfo=timezone(timedelta(hours=-5)))
    decoded, _ = decode_cursor(encode_cursor(when, 1))
    assert decoded.microsecond == 123456
    assert decoded.utcoffset() == timedelta(hours=-5)


def test_a_datetime_and_its_iso_text_make_different_cursors() -> None:
    when = datetime(2024, 1, 1, tzinfo=UTC)
    assert encode_cursor(when, 1) != encode_cursor(when.isoformat(), 1)
    assert isinstance(decode_cursor(encode_cursor(when.isoformat(), 1))[0], str)


def test_a_cursor_is_url_safe_without_padding() -> None:
    for value in ("x" * 50, "???>>>", datetime(2024, 1, 1, tzinfo=UTC)):
        cursor = encode_cursor(value, 123456789)
        assert "=" not in cursor
        assert set(cursor) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        )


def test_cursors_differ_by_id_for_equal_values() -> None:
    assert encode_cursor(500, 1) != encode_cursor(500, 2)


def raw(payload: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not a cursor!",
        "%%%",
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        base64.urlsafe_b64encode(b"hello").decode(),
        raw({"kind": "v", "value": 1, "pk": 1}),
        raw(["v", 1]),
        raw(["v", 1, 2, 3]),
        raw(["x", 1, 1]),
        raw(["v", [1], 1]),
        raw(["v", {"a": 1}, 1]),
        raw(["d", "not a date", 1]),
        raw(["d", 20240101, 1]),
        raw(["v", 1, "1"]),
        raw(["v", 1, 1.5]),
        raw(["v", 1, None]),
        raw(["v", 1, True]),
        raw(["v", 1, 2**63]),
        raw("vd1"),
    ],
)
def test_a_malformed_cursor_is_bad_user_input(cursor: str) -> None:
    with pytest.raises(BadUserInput) as raised:
        decode_cursor(cursor)
    assert raised.value.code is ErrorCode.BAD_USER_INPUT
    assert "not a valid cursor" in raised.value.message


def test_the_extreme_datetimes_a_database_holds_are_valid_cursors() -> None:
    first = datetime(1, 1, 1, tzinfo=UTC)
    last = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert decode_cursor(encode_cursor(first, 1)) == (first, 1)
    assert decode_cursor(encode_cursor(last, 1)) == (last, 1)


def test_the_largest_bigint_id_is_a_valid_cursor() -> None:
    assert decode_cursor(raw(["v", 1, 2**63 - 1])) == (1, 2**63 - 1)


# --- PageArgs -----------------------------------------------------------------------------


def test_no_arguments_mean_the_first_20_forward() -> None:
    args = PageArgs().validated()
    assert args.size == DEFAULT_PAGE_SIZE == 20
    assert args.backward is False


@pytest.mark.parametrize(
    ("args", "size", "backward"),
    [
        (PageArgs(first=5), 5, False),
        (PageArgs(first=0), 0, False),
        (PageArgs(first=MAX_PAGE_SIZE), 100, False),
        (PageArgs(first=5, after="c"), 5, False),
        (PageArgs(after="c"), DEFAULT_PAGE_SIZE, False),
        (PageArgs(last=7), 7, True),
        (PageArgs(last=0), 0, True),
        (PageArgs(last=3, before="c"), 3, True),
        (PageArgs(before="c"), DEFAULT_PAGE_SIZE, True),
    ],
)
def test_size_and_direction(args: PageArgs, size: int, backward: bool) -> None:
    assert args.validated() is args
    assert args.size == size
    assert args.backward is backward


@pytest.mark.parametrize(
    ("args", "argument"),
    [
        (PageArgs(first=101), "first"),
        (PageArgs(first=-1), "first"),
        (PageArgs(last=101), "last"),
        (PageArgs(last=-5), "last"),
    ],
)
def test_a_size_outside_0_to_100_is_bad_user_input(args: PageArgs, argument: str) -> None:
    with pytest.raises(BadUserInput) as raised:
        args.validated()
    assert raised.value.code is ErrorCode.BAD_USER_INPUT
    assert raised.value.extensions["argument"] == argument
    assert "100" in raised.value.message


@pytest.mark.parametrize(
    "args",
    [
        PageArgs(first=1, last=1),
        PageArgs(after="a", before="b"),
        PageArgs(first=2, before="b"),
        PageArgs(last=2, after="a"),
    ],
    ids=["first-and-last", "after-and-before", "first-and-before", "last-and-after"],
)
def test_mixed_directions_are_bad_user_input(args: PageArgs) -> None:
    """Each pair would otherwise silently ignore one of its arguments."""
    with pytest.raises(BadUserInput) as raised:
        args.validated()
    assert raised.value.code is ErrorCode.BAD_USER_INPUT


# --- page_of --------------------------------------------------------------------------------


class Row:
    def __init__(self, pk: int, created_at: datetime) -> None:
        self.pk = pk
        self.created_at = created_at


async def no_count() -> int:
    raise AssertionError("the count must not run")


ORDER = Ordering("created_at", descending=False)
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def test_page_of_cuts_the_extra_row_and_says_more_follow() -> None:
    rows: list[Any] = [Row(pk, T0 + timedelta(minutes=pk)) for pk in range(1, 5)]
    page = page_of(rows, ORDER, 3, no_count)
    assert [row.pk for row in page.items] == [1, 2, 3]
    assert page.has_next_page is True
    assert page.has_previous_page is False
    assert [decode_cursor(cursor) for cursor in page.cursors] == [
        (row.created_at, row.pk) for row in rows[:3]
    ]


def test_page_of_a_short_list_has_no_next_page() -> None:
    rows: list[Any] = [Row(1, T0), Row(2, T0)]
    page = page_of(rows, ORDER, 3, no_count)
    assert len(page.items) == 2
    assert page.has_next_page is False


def test_page_of_nothing_is_empty() -> None:
    page: Page[Any] = page_of([], ORDER, 5, no_count)
    assert page.items == []
    assert page.cursors == []
    assert page.has_next_page is False


async def test_a_pages_total_count_runs_only_when_asked() -> None:
    calls: list[int] = []

    async def count() -> int:
        calls.append(1)
        return 9

    page: Page[Any] = page_of([], ORDER, 5, count)
    assert calls == []
    assert await page.total_count() == 9
    assert calls == [1]


def test_a_long_malformed_cursor_is_not_echoed_in_full() -> None:
    cursor = "x" * 5000

    with pytest.raises(BadUserInput) as raised:
        decode_cursor(cursor)

    assert len(raised.value.message) < 200
    assert "(5000 characters)" in raised.value.message
