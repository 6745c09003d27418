"""What is worked out once from a document node (its limits, its cost plan), kept while the node
lives.

Documents come from the parse cache, so a repeated query meets the same node objects again.
Entries are keyed by the node's id; the weak reference tells a live entry from one whose node
is gone (its id may then be reused). Values must not hold document nodes, so that an evicted
document is not kept alive by its entry.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from graphql import Node

N = TypeVar("N", bound=Node)
V = TypeVar("V")


class NodeMemo(Generic[N, V]):
    """At most ``size`` values, the oldest evicted first."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: dict[tuple[Hashable, int], tuple[weakref.ref[N], V]] = {}

    def get(self, node: N, compute: Callable[[], V], scope: Hashable = None) -> V:
        """The value for ``node`` (and ``scope``, e.g. the schema it is read against)."""
        key = (scope, id(node))
        cached = self._entries.get(key)
        if cached is not None and cached[0]() is node:
            return cached[1]
        value = compute()
        if len(self._entries) >= self._size:
            del self._entries[next(iter(self._entries))]
        self._entries[key] = (weakref.ref(node), value)
        return value
