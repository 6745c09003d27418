"""What the database can hold: the bounds every client value must meet before it reaches
PostgreSQL or SQLite (where breaking one is a driver error, not a refusal).

- Text: PostgreSQL refuses NUL in ``text``/``varchar`` ("invalid byte sequence for encoding
  UTF8: 0x00") and no driver can encode an unpaired UTF-16 surrogate as UTF-8; a
  ``CharField`` refuses more than its ``max_length`` in Tortoise's own validator.
- Integers: ``BIGINT``/``INTEGER`` columns are signed 64/32-bit on both databases.
- Date-times: asyncpg converts an aware value to UTC, which must stay within Python's
  years 1-9999 (``0001-01-01T00:00:00+14:00`` is year 0 in UTC).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from tortoise.fields import Field

STRING_MAX = 100_000
"""Every string a client sends, whatever its argument (a post body is at most 20,000)."""

SEARCH_MAX = 200
"""A search term: it becomes a LIKE pattern matched against every candidate row."""

BIGINT_MAX = 2**63 - 1

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def text_problem(value: str, max_length: int = STRING_MAX) -> str | None:
    """Why ``value`` cannot be stored as text (a phrase to follow the value's name), or None."""
    if len(value) > max_length:
        return f"must be at most {max_length} characters long (got {len(value)})"
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "must not contain NUL characters (\\u0000)"
    return "must be valid Unicode (it contains an unpaired surrogate)"


def datetime_problem(value: datetime) -> str | None:
    """Why ``value`` cannot be stored as a timestamp, or None."""
    if value.tzinfo is None:
        return None
    try:
        value.astimezone(UTC)
    except OverflowError:
        return "is out of range: it must fall within the years 1 to 9999 in UTC"
    return None


def column_problem(field: Field[Any], value: object) -> str | None:
    """Why ``value`` cannot be compared with the column of ``field``, or None (cursors carry
    such values back from clients)."""
    if isinstance(value, str):
        return text_problem(value, field.constraints.get("max_length", STRING_MAX))
    if isinstance(value, int) and not isinstance(value, bool):
        low, high = field.constraints.get("ge"), field.constraints.get("le")
        if (low is not None and value < low) or (high is not None and value > high):
            return f"must be between {low} and {high}"
        return None
    if isinstance(value, datetime):
        return datetime_problem(value)
    return None
