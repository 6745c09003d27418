"""Values a level's prefetch attached to an object, by the response key of their field
(``resolvers/prefetch.py`` attaches them; the field resolvers and the executor read them)."""

from __future__ import annotations

from typing import Any

ATTACHED = "_agora_prefetched"
MISSING: Any = object()
PREFETCHED_FIELD = "agora-prefetched"  # GraphQLField.extensions: the field reads attachments


def attach(item: object, key: str, value: object) -> None:
    item.__dict__.setdefault(ATTACHED, {})[key] = value


def attached(item: Any, key: str | int) -> Any:
    """What was attached to ``item`` under ``key``, or ``MISSING``."""
    found = item.__dict__.get(ATTACHED)
    return MISSING if found is None else found.get(key, MISSING)
