"""Keyset (cursor) pagination over Tortoise querysets.

A cursor is the opaque encoding of the last row's (sort value, id); the next page is the rows
strictly after it in (sort, id) order: no OFFSET, so page 1000 costs what page 1 costs, and a
row inserted meanwhile neither repeats nor hides another.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import orjson
from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from services.errors import BadUserInput, echo
from services.input_bounds import BIGINT_MAX, column_problem

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_PK = BIGINT_MAX

M = TypeVar("M", bound=Model)


@dataclass(frozen=True, slots=True)
class PageArgs:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    def validated(self) -> PageArgs:
        for name, value in (("first", self.first), ("last", self.last)):
            if value is not None and not 0 <= value <= MAX_PAGE_SIZE:
                raise BadUserInput(
                    f"`{name}` must be between 0 and {MAX_PAGE_SIZE}, got {value}", argument=name
                )
        if self.first is not None and self.last is not None:
            raise BadUserInput("Pass `first` or `last`, not both")
        if self.after is not None and self.before is not None:
            raise BadUserInput("Pass `after` or `before`, not both")
        if (self.first is not None and self.before is not None) or (
            self.last is not None and self.after is not None
        ):
            # Either pair would silently ignore one of its arguments.
            raise BadUserInput("Page forward with `first`/`after`, backward with `last`/`before`")
        return self

    @property
    def backward(self) -> bool:
        return self.last is not None or self.before is not None

    @property
    def size(self) -> int:
        size = self.last if self.backward else self.first
        return DEFAULT_PAGE_SIZE if size is None else size


@dataclass(frozen=True, slots=True)
class Ordering:
    """Sort by ``field`` then ``id``, both in the same direction."""

    field: str
    descending: bool = True


@dataclass
class Page(Generic[M]):
    items: list[M]
    ordering: Ordering
    has_next_page: bool
    has_previous_page: bool
    counter: Callable[[], Awaitable[int]]

    def cursor(self, index: int) -> str:
        """The cursor of ``items[index]``, made only when a client selects it."""
        row = self.items[index]
        return encode_cursor(getattr(row, self.ordering.field), row.pk)

    @property
    def cursors(self) -> list[str]:
        return [self.cursor(index) for index in range(len(self.items))]

    async def total_count(self) -> int:
        """The size of the whole list: a COUNT, run only when asked for."""
        return await self.counter()


def encode_cursor(value: Any, pk: int) -> str:
    if isinstance(value, datetime):
        payload: list[Any] = ["d", value.isoformat(), pk]
    else:
        payload = ["v", value, pk]
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        kind, value, pk = orjson.loads(base64.urlsafe_b64decode(padded))
        if kind == "d":
            value = datetime.fromisoformat(value)
        elif kind != "v" or isinstance(value, (list, dict)):
            raise ValueError(kind)
        if not isinstance(pk, int) or isinstance(pk, bool) or not -MAX_PK <= pk <= MAX_PK:
            raise ValueError(pk)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise BadUserInput(f"{echo(cursor)} is not a valid cursor") from exc
    return value, pk


def _check_cursor_value(model: type[Model], ordering: Ordering, value: Any, cursor: str) -> None:
    """A cursor's value must fit the ordering's column (a cursor of another ordering, or a
    forged one, is bad input, not a database error)."""
    field = model._meta.fields_map[ordering.field]
    if (
        isinstance(value, bool)
        or not isinstance(value, field.field_type)
        or (isinstance(value, datetime) and value.tzinfo is None)
        or column_problem(field, value) is not None
    ):
        raise BadUserInput(f"{echo(cursor)} is not a valid cursor for this ordering")


def _after(ordering: Ordering, value: Any, pk: int, reverse: bool) -> Q:
    """Rows strictly after (value, pk) in the ordering (or before it when ``reverse``)."""
    descending = ordering.descending != reverse
    op = "lt" if descending else "gt"
    return Q(**{f"{ordering.field}__{op}": value}) | Q(**{ordering.field: value, f"id__{op}": pk})


def _order_by(ordering: Ordering, reverse: bool) -> list[str]:
    descending = ordering.descending != reverse
    prefix = "-" if descending else ""
    return [f"{prefix}{ordering.field}", f"{prefix}id"]


async def paginate(
    queryset: QuerySet[M],
    ordering: Ordering,
    args: PageArgs,
    *,
    fields: Sequence[str] | None = None,
) -> Page[M]:
    """One page of ``queryset`` (one SELECT of size+1 rows)."""
    args = args.validated()
    size = args.size
    backward = args.backward
    query = queryset
    cursor = args.before if backward else args.after
    if cursor is not None:
        value, pk = decode_cursor(cursor)
        _check_cursor_value(queryset.model, ordering, value, cursor)
        query = query.filter(_after(ordering, value, pk, reverse=backward))
    query = query.order_by(*_order_by(ordering, reverse=backward)).limit(size + 1)
    if fields:
        query = query.only(*fields)
    # Even for a page of 0 the one extra row is fetched: it says whether there is more.
    rows = list(await query)
    has_more = len(rows) > size
    rows = rows[:size]
    if backward:
        rows.reverse()
    return Page(
        items=rows,
        ordering=ordering,
        has_next_page=has_more if not backward else args.before is not None,
        has_previous_page=has_more if backward else args.after is not None,
        counter=queryset.count,
    )


def page_of(
    rows: list[M],
    ordering: Ordering,
    size: int,
    counter: Callable[[], Awaitable[int]],
) -> Page[M]:
    """A first page from up to ``size + 1`` rows already fetched in order (batched
    per-parent pagination: see loaders.pages)."""
    has_more = len(rows) > size
    rows = rows[:size]
    return Page(
        items=rows,
        ordering=ordering,
        has_next_page=has_more,
        has_previous_page=False,
        counter=counter,
    )
