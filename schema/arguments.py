"""Optional arguments default to UNSET, so the SDL shows ``first: Int`` (no ``= null``)."""

from __future__ import annotations

from typing import TypeVar

from strawberry.types.unset import UnsetType

T = TypeVar("T")


def given(value: T | UnsetType | None) -> T | None:
    """The argument's value, or None when it was omitted or null."""
    return None if isinstance(value, UnsetType) else value
