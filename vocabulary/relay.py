"""Relay basics: the Node interface, global IDs and PageInfo."""

from __future__ import annotations

import base64
import binascii

import strawberry

from services.errors import BadUserInput, echo
from services.global_ids import global_id
from services.input_bounds import BIGINT_MAX
from vocabulary.cache_hints import INHERIT_MAX_AGE


@strawberry.interface(description="An object with a globally unique, opaque ID.")
class Node:
    id: strawberry.ID


@strawberry.type(
    description="Where a page of a connection sits in the whole list.",
    directives=[INHERIT_MAX_AGE],
)
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


def to_global_id(type_name: str, pk: int | str) -> strawberry.ID:
    return strawberry.ID(global_id(type_name, pk))


def from_global_id(global_id: str) -> tuple[str, str]:
    """Split a global ID into (type name, primary key); BAD_USER_INPUT if it is not one."""
    try:
        decoded = base64.b64decode(global_id, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise BadUserInput(f"{echo(global_id)} is not a valid ID") from exc
    type_name, separator, pk = decoded.partition(":")
    if not separator or not type_name or not pk:
        raise BadUserInput(f"{echo(global_id)} is not a valid ID")
    return type_name, pk


MAX_PK = BIGINT_MAX


def parse_int_pk(pk: str) -> int | None:
    """An integer primary key from the text of a global ID, or None if it cannot be one."""
    if not pk.isascii() or not pk.isdigit():
        return None
    value = int(pk)
    return value if 0 < value <= MAX_PK else None


def optional_int_pk(global_id: str, expected_type: str) -> int | None:
    """The key of a global ID naming ``expected_type``; None for a well-formed ID of another
    type or an out-of-range key (lookups answer null); BAD_USER_INPUT if it is no ID."""
    type_name, pk = from_global_id(global_id)
    return parse_int_pk(pk) if type_name == expected_type else None


def int_pk(global_id: str, expected_type: str) -> int:
    """The integer primary key of a global ID that must name ``expected_type``."""
    type_name, pk = from_global_id(global_id)
    value = parse_int_pk(pk)
    if type_name != expected_type or value is None:
        raise BadUserInput(f"{echo(global_id)} is not a valid {expected_type} ID")
    return value
