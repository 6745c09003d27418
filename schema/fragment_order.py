"""The order in which a document's fragments can each be expanded once: every fragment after
the fragments it spreads, found without recursion (a chain of fragments is as long as the
document allows). A spread of an unknown fragment, or one closing a cycle, is not followed:
the walks that use this order let such a spread add nothing (validation reports it)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def dependency_order(spreads: Mapping[str, Iterable[str]]) -> list[str]:
    """The fragments of ``spreads`` (each fragment's name → the names it spreads), each
    after those it spreads."""
    order: list[str] = []
    done: set[str] = set()
    for root in spreads:
        if root in done:
            continue
        path = [(root, iter(spreads[root]))]
        on_path = {root}
        while path:
            name, pending = path[-1]
            for spread in pending:
                if spread in spreads and spread not in done and spread not in on_path:
                    path.append((spread, iter(spreads[spread])))
                    on_path.add(spread)
                    break
            else:
                path.pop()
                on_path.remove(name)
                done.add(name)
                order.append(name)
    return order
