"""The selection below the field being resolved, as Strawberry's ``Selection`` types, with each
fragment converted once.

Strawberry's ``info.selected_fields`` converts a fragment anew at every spread: a document
whose fragments spread the previous one twice (``F1 = F0 F0`` … ``F25``) is 2^25
conversions, minutes of CPU. Here a fragment's selections are converted once per call and
shared by all of its spreads (the result is a graph, not a tree: it is read, never changed).

Each field keeps its field nodes (``FieldSelection.nodes``): the prefetch attaches values
under them (``resolvers/attachments.py``). A selection excluded by ``@skip``/``@include`` is
left out, as graphql-core leaves it out of execution, so that the nodes merged under a
response key here are those graphql-core merges.

The selection of a field is worked out once per field nodes and variable values and
remembered (documents come from the parse cache, so a repeated query meets the same nodes
again), as are the fields below it (``subfields``, ``node_fields``). What is remembered is
shared by every request that meets those nodes: it is read, never changed.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Hashable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLResolveInfo,
    GraphQLSkipDirective,
    InlineFragmentNode,
    SelectionNode,
    SelectionSetNode,
    get_directive_values,
)
from graphql.execution.values import VariableValues
from strawberry.types.nodes import (
    FragmentSpread,
    InlineFragment,
    SelectedField,
    Selection,
    convert_arguments,
    convert_directives,
    get_variable_values,
)

if TYPE_CHECKING:
    from graphql import GraphQLSchema

    from vocabulary.context import Info


@dataclasses.dataclass
class FieldSelection(SelectedField):
    """A selected field with the document's field nodes it was selected by (one, or several
    merged under one response key), in document order."""

    nodes: tuple[FieldNode, ...] = ()
    # What ``subfields`` and ``node_fields`` worked out, kept with the selection.
    _subfields: list[FieldSelection] | None = dataclasses.field(
        default=None, init=False, repr=False, compare=False
    )
    _node_fields: list[FieldSelection] | None = dataclasses.field(
        default=None, init=False, repr=False, compare=False
    )


def _included(node: SelectionNode, variables: VariableValues) -> bool:
    """graphql-core's ``@skip``/``@include`` rule."""
    if not node.directives:
        return True
    skip = get_directive_values(GraphQLSkipDirective, node, variables)
    if skip is not None and skip["if"]:
        return False
    include = get_directive_values(GraphQLIncludeDirective, node, variables)
    return include is None or bool(include["if"])


class _Converter:
    def __init__(self, info: GraphQLResolveInfo[Any]) -> None:
        self.info = info
        self.fragments: dict[str, list[Selection]] = {}
        # Strawberry's resolve info holds the coerced values, not graphql-core's container.
        self.variables = VariableValues(sources={}, coerced=get_variable_values(info))

    def field(
        self, node: FieldNode, selections: list[Selection], nodes: tuple[FieldNode, ...]
    ) -> FieldSelection:
        return FieldSelection(
            name=node.name.value,
            directives=convert_directives(self.info, node.directives),
            arguments=convert_arguments(self.info, node.arguments),
            selections=selections,
            alias=node.alias.value if node.alias else None,
            nodes=nodes,
        )

    def selections(self, selection_set: SelectionSetNode | None) -> list[Selection]:
        if selection_set is None:
            return []
        converted: list[Selection] = []
        for node in selection_set.selections:
            if not _included(node, self.variables):
                continue
            if isinstance(node, FieldNode):
                converted.append(self.field(node, self.selections(node.selection_set), (node,)))
            elif isinstance(node, InlineFragmentNode):
                converted.append(
                    InlineFragment(
                        type_condition=node.type_condition.name.value
                        if node.type_condition
                        else None,
                        selections=self.selections(node.selection_set),
                        directives=convert_directives(self.info, node.directives),
                    )
                )
            elif isinstance(node, FragmentSpreadNode):
                converted.append(self.spread(node))
        return converted

    def spread(self, node: FragmentSpreadNode) -> FragmentSpread:
        name = node.name.value
        fragment = self.info.fragments[name]
        selections = self.fragments.get(name)
        if selections is None:
            selections = self.fragments[name] = self.selections(fragment.selection_set)
        return FragmentSpread(
            name=name,
            type_condition=fragment.type_condition.name.value,
            directives=convert_directives(self.info, node.directives),
            selections=selections,
        )


def field_nodes(info: Info) -> list[FieldNode]:
    """The document's nodes of the field being resolved (graphql-core merges them)."""
    nodes: list[FieldNode] = info._raw_info.field_nodes
    return nodes


def graphql_schema(info: Info) -> GraphQLSchema:
    """The graphql-core schema being executed (Strawberry's ``info.schema`` is its own)."""
    schema: GraphQLSchema = info._raw_info.schema
    return schema


def selected_field(info: Info) -> FieldSelection:
    """The field being resolved with everything selected below it. A field selected more
    than once under one response key is resolved once (graphql-core merges its nodes):
    its selections are those of all its nodes."""
    raw = info._raw_info  # the resolve info behind Strawberry's Info
    nodes: list[FieldNode] = raw.field_nodes
    key = _selection_key(nodes, get_variable_values(raw))
    if key is None:
        return _converted(raw, nodes)
    found = _selections.get(key)
    if found is None:
        found = _converted(raw, nodes)
        if len(_selections) >= SELECTIONS_KEPT:
            del _selections[next(iter(_selections))]
        _selections[key] = found
    return found


SELECTIONS_KEPT = 512
# By the ids of the field nodes and the variable values. An entry holds its nodes
# (``FieldSelection.nodes``), so no id in a kept key can name another node. A field node
# belongs to one document: its fragments are that document's.
_selections: dict[Hashable, FieldSelection] = {}

# Variable values that compare equal only when they convert alike (immutable, too).
_PLAIN_VALUES = frozenset({str, int, float, bool, type(None)})


def _selection_key(nodes: list[FieldNode], variables: Mapping[str, Any]) -> Hashable | None:
    """The field's memo key, or None when a variable's value is not plain (a list or an
    input object: those are converted anew)."""
    ids = tuple(map(id, nodes))
    if not variables:
        return ids
    frozen = []
    for name, value in sorted(variables.items()):
        kind = type(value)
        if kind not in _PLAIN_VALUES and not isinstance(value, enum.Enum):
            return None
        frozen.append((name, kind, value))  # with its type: 1, 1.0 and True are equal
    return ids, tuple(frozen)


def _converted(raw: GraphQLResolveInfo[Any], nodes: list[FieldNode]) -> FieldSelection:
    converter = _Converter(raw)
    return converter.field(
        nodes[0],
        [selection for node in nodes for selection in converter.selections(node.selection_set)],
        tuple(nodes),
    )


def response_key(field: SelectedField) -> str:
    return field.alias or field.name


def fields_of(selections: Iterable[Selection]) -> list[FieldSelection]:
    """The fields of a selection set, through fragments and inline fragments, as graphql-core
    collects them: a fragment spread again is not read again, and the fields under one
    response key are one field with the nodes and selections of all."""
    by_key: dict[str, FieldSelection] = {}
    _collect(selections, by_key, set())
    return list(by_key.values())


def _collect(
    selections: Iterable[Selection], by_key: dict[str, FieldSelection], visited: set[str]
) -> None:
    for selection in selections:
        if isinstance(selection, FieldSelection):
            key = response_key(selection)
            known = by_key.get(key)
            by_key[key] = (
                selection
                if known is None
                else dataclasses.replace(
                    known,
                    selections=[*known.selections, *selection.selections],
                    nodes=known.nodes + selection.nodes,
                )
            )
        elif isinstance(selection, InlineFragment):
            _collect(selection.selections, by_key, visited)
        elif isinstance(selection, FragmentSpread) and selection.name not in visited:
            visited.add(selection.name)
            _collect(selection.selections, by_key, visited)


def subfields(field: FieldSelection) -> list[FieldSelection]:
    """``fields_of(field.selections)``, worked out once per selection."""
    found = field._subfields
    if found is None:
        found = field._subfields = fields_of(field.selections)
    return found


def node_fields(connection: FieldSelection) -> list[FieldSelection]:
    """What is selected on the nodes of a connection (``nodes`` and ``edges.node``), worked
    out once per selection."""
    found = connection._node_fields
    if found is None:
        found = connection._node_fields = _node_fields(connection)
    return found


def _node_fields(connection: FieldSelection) -> list[FieldSelection]:
    found: list[FieldSelection] = []
    for field in subfields(connection):
        if field.name == "nodes":
            found.extend(subfields(field))
        elif field.name == "edges":
            for edge_field in subfields(field):
                if edge_field.name == "node":
                    found.extend(subfields(edge_field))
    return found
