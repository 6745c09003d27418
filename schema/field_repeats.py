"""How often a document selects one response key at one place of its result.

graphql-core's ``OverlappingFieldsCanBeMergedRule`` compares every pair of fields that answer
under one response key at one place: the fields of a selection set, of its inline fragments
and of the fragments it spreads, and below fields of one key (whose selections merge), their
sub-fields again. Its work grows with the square of those counts: 240 copies of
``author { id }`` in one selection set (480 fields) took 0.2-0.3 s of validation, and 4 copies
of ``author { … }`` each with 50 copies of ``posts(first: 1) { totalCount }`` (406 fields, no
selection set repeating a key more than 50 times) 0.17 s. ``QUERY_MAX_FIELD_REPEATS`` bounds
the counts measured here.

A place is counted as graphql-core merges it: fields of one response key merge their
selections into one place below, inline fragments belong to the place they are in, and a
fragment spread again at a place where it was already spread adds nothing (spread through
another fragment first, it may be counted twice: the count errs high, never low). Each
fragment's places are worked out once, after the fragments it spreads, and added wherever it
is spread, so the work is linear in the expanded fields of each definition: it is measured
once the field limit holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from schema.fragment_order import dependency_order


@dataclass(frozen=True, slots=True)
class Repeat:
    """The response key a definition selects most often at one place."""

    kind: str  # "Operation" or "Fragment"
    name: str
    path: str  # the response keys from the definition's root to that place's key
    count: int


class _Place:
    """A place of a result: how many fields each response key has there, the place below
    each key with a selection, and the fragments spread there."""

    __slots__ = ("below", "counts", "spread")

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.below: dict[str, _Place] = {}
        self.spread: set[str] = set()

    def under(self, response_key: str) -> _Place:
        place = self.below.get(response_key)
        if place is None:
            place = self.below[response_key] = _Place()
        return place


def _add(place: _Place, name: str, fragment: _Place) -> None:
    """The places of fragment ``name`` added at ``place`` (once per place)."""
    if name in place.spread:
        return
    place.spread.add(name)
    stack = [(place, fragment)]
    while stack:
        into, source = stack.pop()
        into.spread |= source.spread
        counts = into.counts
        for response_key, count in source.counts.items():
            counts[response_key] = counts.get(response_key, 0) + count
        for response_key, below in source.below.items():
            stack.append((into.under(response_key), below))


def _places(selection_set: SelectionSetNode, fragments: dict[str, _Place]) -> _Place:
    """The places of a definition, with the fragments of ``fragments`` expanded (any other
    spread, unknown or closing a cycle, adds nothing)."""
    root = _Place()
    stack = [(selection_set, root)]
    while stack:
        current, place = stack.pop()
        for selection in current.selections:
            if isinstance(selection, FieldNode):
                response_key = (selection.alias or selection.name).value
                place.counts[response_key] = place.counts.get(response_key, 0) + 1
                if selection.selection_set is not None:
                    stack.append((selection.selection_set, place.under(response_key)))
            elif isinstance(selection, InlineFragmentNode):
                stack.append((selection.selection_set, place))
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    _add(place, selection.name.value, fragment)
    return root


def _spreads(selection_set: SelectionSetNode) -> list[str]:
    names: list[str] = []
    stack = [selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                names.append(selection.name.value)
            elif isinstance(selection, (FieldNode, InlineFragmentNode)) and selection.selection_set:
                stack.append(selection.selection_set)
    return names


def _most(root: _Place) -> tuple[int, str]:
    """The largest count of a key at one place, and the path to that key."""
    most, most_at = 0, ""
    stack: list[tuple[_Place, str]] = [(root, "")]
    while stack:
        place, path = stack.pop()
        for response_key, count in place.counts.items():
            if count > most:
                most, most_at = count, f"{path}{response_key}"
        stack.extend((below, f"{path}{key}.") for key, below in place.below.items())
    return most, most_at


def most_repeated(document: DocumentNode) -> Repeat | None:
    """The definition (operation or fragment) that selects one response key most often at
    one place, or None for a document without fields."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    places: dict[str, _Place] = {}
    for name in dependency_order({n: _spreads(f.selection_set) for n, f in fragments.items()}):
        places[name] = _places(fragments[name].selection_set, places)
    found = [
        ("Operation", d.name.value if d.name else "anonymous", _places(d.selection_set, places))
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    ]
    found += [("Fragment", name, place) for name, place in places.items()]
    best: Repeat | None = None
    for kind, name, place in found:
        count, path = _most(place)
        if count and (best is None or count > best.count):
            best = Repeat(kind, name, path, count)
    return best
