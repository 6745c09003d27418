"""How much of the viewer an operation's answer depends on, read from its document: the
largest ``ViewerDependence`` its fields declare (``vocabulary/viewer.py``).

Read from the document, it covers every field the operation could resolve: fields under
``@skip``/``@include`` count whatever the condition, a fragment counts wherever it is
spread, and a field of an interface counts that field on every type implementing it.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
)

from schema.node_memo import NodeMemo
from vocabulary.viewer import ViewerDependence, declared_dependence

_dependences: NodeMemo[OperationDefinitionNode, ViewerDependence] = NodeMemo(512)


def operation_dependence(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
) -> ViewerDependence:
    """Worked out once per operation node (documents come from the parse cache, so every
    subscriber of a repeated document meets the same node)."""
    return _dependences.get(
        operation, lambda: _dependence(schema, document, operation), scope=id(schema)
    )


def _dependence(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
) -> ViewerDependence:
    root = schema.get_root_type(operation.operation)
    if root is None:
        return ViewerDependence.NONE
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    return _Walk(schema, fragments).selection_set(operation.selection_set, root)


def field_dependence(field: GraphQLField) -> ViewerDependence:
    definition = field.extensions.get("strawberry-definition")
    return ViewerDependence.NONE if definition is None else declared_dependence(definition)


class _Walk:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.schema = schema
        self.fragments = fragments
        self.walked: set[str] = set()

    def selection_set(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType
    ) -> ViewerDependence:
        found = ViewerDependence.NONE
        if selection_set is None:
            return found
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                found = max(found, self.field(selection, parent))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                type_ = self.narrowed(parent, condition.name.value if condition else None)
                found = max(found, self.selection_set(selection.selection_set, type_))
            elif isinstance(selection, FragmentSpreadNode):
                # A fragment walked once is counted once: the result is a maximum.
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None and fragment.name.value not in self.walked:
                    self.walked.add(fragment.name.value)
                    type_ = self.narrowed(parent, fragment.type_condition.name.value)
                    found = max(found, self.selection_set(fragment.selection_set, type_))
            if found is ViewerDependence.USER:
                break
        return found

    def narrowed(self, parent: GraphQLNamedType, condition: str | None) -> GraphQLNamedType:
        type_ = self.schema.get_type(condition) if condition else None
        return parent if type_ is None else type_

    def field(self, node: FieldNode, parent: GraphQLNamedType) -> ViewerDependence:
        found = ViewerDependence.NONE
        definitions = list(self.definitions(parent, node.name.value))
        for definition in definitions:
            found = max(found, field_dependence(definition))
        if definitions and node.selection_set is not None:
            found = max(
                found, self.selection_set(node.selection_set, get_named_type(definitions[0].type))
            )
        return found

    def definitions(self, parent: GraphQLNamedType, name: str) -> Iterator[GraphQLField]:
        """The field on ``parent``; on an interface, also on each implementation."""
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return
        field = parent.fields.get(name)
        if field is None:
            return
        yield field
        if isinstance(parent, GraphQLInterfaceType):
            for implementation in self.schema.get_possible_types(parent):
                if (own := implementation.fields.get(name)) is not None:
                    yield own
