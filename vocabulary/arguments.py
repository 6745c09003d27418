"""Optional arguments default to UNSET, so the SDL shows ``first: Int`` (no ``= null``)."""

from __future__ import annotations

from typing import TypeVar

from strawberry.types.unset import UnsetType

from services.pagination import PageArgs

T = TypeVar("T")


def given(value: T | UnsetType | None) -> T | None:
    """The argument's value, or None when it was omitted or null."""
    return None if isinstance(value, UnsetType) else value


def page_args(
    first: int | UnsetType | None,
    after: str | UnsetType | None,
    last: int | UnsetType | None,
    before: str | UnsetType | None,
) -> PageArgs:
    """A connection field's four slicing arguments, omitted ones as None."""
    return PageArgs(given(first), given(after), given(last), given(before))
