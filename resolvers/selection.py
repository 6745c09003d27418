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
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
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
    from graphql import GraphQLResolveInfo, GraphQLSchema

    from vocabulary.context import Info


@dataclasses.dataclass
class FieldSelection(SelectedField):
    """A selected field with the document's field nodes it was selected by (one, or several
    merged under one response key), in document order."""

    nodes: tuple[FieldNode, ...] = ()


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
    converter = _Converter(raw)
    nodes = raw.field_nodes
    return converter.field(
        nodes[0],
        [selection for node in nodes for selection in converter.selections(node.selection_set)],
        tuple(nodes),
    )
