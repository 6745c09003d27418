"""Values a level's prefetch attached to an object (``resolvers/prefetch.py`` attaches them;
the field resolvers and the executor read them).

A model object is shared by every place it appears in a response (the loaders give one
User for every post by that author, at every depth), so a value is attached under what
determines it: the field nodes graphql-core merges under the field's response key. Their
first node gives the field's name and arguments (graphql-core resolves with it) and their
selection sets the sub-selection, so two selections of one object with other arguments,
another sub-selection or another field under the same response key never share a slot,
while the same nodes reached along two paths (a fragment spread in two places) share one
slot and one value. A slot the executor does not find is answered by the field's resolver.

A node is known by its ``id()``: graphql-core's AST nodes are frozen dataclasses, whose
hash and equality walk the whole subtree. Values are attached to the request's own objects
(the caches keep rows, not models), which die with the request and its document, so an id
cannot be reused while it names a slot.
"""

from __future__ import annotations

import copy
from collections.abc import Hashable, Iterable, Sequence
from typing import Any, TypeVar

from graphql import FieldNode

T = TypeVar("T")

ATTACHED = "_agora_prefetched"
MISSING: Any = object()
PREFETCHED_FIELD = "agora-prefetched"  # GraphQLField.extensions: the field reads attachments


def slot(nodes: Sequence[FieldNode]) -> Hashable:
    """The slot of the field selected by ``nodes`` (graphql-core's merged field nodes)."""
    return id(nodes[0]) if len(nodes) == 1 else tuple(map(id, nodes))


def attach_each(items: Sequence[object], key: Hashable, values: Iterable[object]) -> None:
    """``attach`` each of ``items`` its value (as many values as items)."""
    for item, value in zip(items, values, strict=True):
        attachments = item.__dict__.get(ATTACHED)
        if attachments is None:
            item.__dict__[ATTACHED] = {key: value}
        else:
            attachments[key] = value


def attached(item: Any, key: Hashable) -> Any:
    """What was attached to ``item`` under ``key``, or ``MISSING``."""
    found = item.__dict__.get(ATTACHED)
    return MISSING if found is None else found.get(key, MISSING)


def detached_copy(item: T) -> T:
    """A shallow copy of ``item`` without the values attached to it."""
    duplicate = copy.copy(item)
    duplicate.__dict__.pop(ATTACHED, None)
    return duplicate
