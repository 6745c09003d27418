"""Input rules, checked before execution (and before the cost analysis reads any argument):

1. the variables are coerced to their declared types (graphql-core does it again when it
   executes; a bad value is BAD_USER_INPUT here, whatever reads it next);
2. every string reaching an argument of the operation, as a literal or a variable, at any
   depth of input objects and lists, is at most its ``@maxLength`` (declared on the argument
   or input field; ``STRING_MAX`` otherwise), contains no NUL and no unpaired surrogate
   (``services.input_bounds.text_problem``).

The first broken rule stops the request: BAD_USER_INPUT naming the argument path
(``filter.tag``) and the field. The rules cannot live in the ``String`` and ``ID`` scalars:
graphql-core reserves the names of its built-in scalars.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    ArgumentNode,
    DirectiveNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLError,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    get_operation_ast,
    get_variable_values,
    value_from_ast_untyped,
)
from strawberry.types import ExecutionContext

from services.errors import BadUserInput
from services.input_bounds import STRING_MAX, text_problem
from vocabulary.directives import MaxLength

# Scalars whose coerced values are the client's strings (Decimal and DateTime parse theirs).
TEXT_SCALARS = frozenset({"String", "ID", "JSON"})


_DECLARED = "agora-max-length"


def declared_max_length(definition: GraphQLArgument | GraphQLInputField) -> int:
    """The ``@maxLength`` of an argument or input field (else ``STRING_MAX``), looked up once
    and kept in the definition's own extensions."""
    extensions = definition.extensions
    if _DECLARED not in extensions:
        strawberry_definition = extensions.get("strawberry-definition")
        extensions[_DECLARED] = next(
            (
                directive.value
                for directive in getattr(strawberry_definition, "directives", None) or ()
                if isinstance(directive, MaxLength)
            ),
            STRING_MAX,
        )
    limit: int = extensions[_DECLARED]
    return limit


def carries_text(type_: GraphQLInputType, seen: frozenset[str] = frozenset()) -> bool:
    """Whether a value of this type can hold a client's string."""
    named = get_named_type(type_)
    if isinstance(named, GraphQLInputObjectType):
        if named.name in seen:
            return False
        return any(carries_text(field.type, seen | {named.name}) for field in named.fields.values())
    return isinstance(named, GraphQLScalarType) and named.name in TEXT_SCALARS


@dataclass(frozen=True, slots=True)
class ArgumentSite:
    """One argument written in the document, where its value can hold text."""

    owner: str  # the field's or directive's name, for messages
    node: ArgumentNode
    definition: GraphQLArgument


def argument_sites(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
) -> list[ArgumentSite]:
    """The text-carrying arguments of the operation and of the fragments it spreads, each
    fragment visited once however often it is spread."""
    collector = _SiteCollector(schema, fragments)
    collector.directives(operation.directives)
    collector.walk(operation.selection_set, schema.get_root_type(operation.operation))
    return collector.sites


# A class rather than nested recursive functions: those would be a reference cycle (and
# garbage for the cyclic collector) on every request.
@dataclass
class _SiteCollector:
    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    sites: list[ArgumentSite] = field(default_factory=list)
    visited: set[str] = field(default_factory=set)

    def add(
        self, owner: str, nodes: Sequence[ArgumentNode], definitions: Mapping[str, Any]
    ) -> None:
        for node in nodes:
            definition = definitions.get(node.name.value)
            if definition is not None and carries_text(definition.type):
                self.sites.append(ArgumentSite(owner, node, definition))

    def directives(self, nodes: Sequence[DirectiveNode] | None) -> None:
        for node in nodes or ():
            directive = self.schema.get_directive(node.name.value)
            if directive is not None:
                self.add(f"@{node.name.value}", node.arguments or (), directive.args)

    def walk(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None) -> None:
        for selection in selection_set.selections if selection_set else ():
            self.directives(selection.directives)
            if isinstance(selection, FieldNode):
                fields = getattr(parent, "fields", None) or {}
                definition = fields.get(selection.name.value)
                if definition is not None:
                    self.add(selection.name.value, selection.arguments or (), definition.args)
                    self.walk(selection.selection_set, get_named_type(definition.type))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                self.walk(
                    selection.selection_set,
                    self.schema.get_type(condition.name.value) if condition else parent,
                )
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in self.visited:
                    continue
                self.visited.add(name)
                self.directives(fragment.directives)
                self.walk(
                    fragment.selection_set, self.schema.get_type(fragment.type_condition.name.value)
                )


def _item_type(type_: GraphQLInputType) -> GraphQLInputType:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return type_.of_type if isinstance(type_, GraphQLList) else type_


def text_problems(
    value: Any, type_: GraphQLInputType, limit: int, path: str
) -> Iterator[tuple[str, str]]:
    """(path, problem) for every string in a coerced or literal value that breaks its rule."""
    if isinstance(value, str):
        problem = text_problem(value, limit)
        if problem is not None:
            yield path, problem
    elif isinstance(value, (list, tuple)):
        item_type = _item_type(type_)
        for index, item in enumerate(value):
            yield from text_problems(item, item_type, limit, f"{path}[{index}]")
    elif isinstance(value, dict):
        named = get_named_type(type_)
        fields = named.fields if isinstance(named, GraphQLInputObjectType) else {}
        for name, item in value.items():
            field = fields.get(name)
            if field is None:
                yield from text_problems(item, type_, STRING_MAX, f"{path}.{name}")
            else:
                yield from text_problems(
                    item, field.type, declared_max_length(field), f"{path}.{name}"
                )


def check_arguments(sites: Sequence[ArgumentSite], variables: dict[str, Any]) -> None:
    """Raise BAD_USER_INPUT for the first string of these arguments that breaks its rule."""
    for site in sites:
        value = value_from_ast_untyped(site.node.value, variables)
        for path, problem in text_problems(
            value,
            site.definition.type,
            declared_max_length(site.definition),
            site.node.name.value,
        ):
            message = f"Argument '{path}' of '{site.owner}' {problem}"
            raise GraphQLError(
                message, site.node, original_error=BadUserInput(message, argument=path)
            )


def check_inputs(ctx: ExecutionContext) -> None:
    """Coerces the variables and checks every string argument before execution (the first
    step of ``RequestPipeline.on_execute``)."""
    document = ctx.graphql_document
    operation = get_operation_ast(document, ctx.operation_name) if document else None
    if document is None or operation is None:
        return
    schema = ctx.schema._schema
    coerced = get_variable_values(
        schema,
        operation.variable_definitions or (),
        ctx.variables if isinstance(ctx.variables, dict) else {},
        max_errors=1,
        hide_suggestions=ctx.schema.config.disable_field_suggestions,
    )
    if isinstance(coerced, list):
        raise coerced[0]
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    check_arguments(argument_sites(schema, operation, fragments), coerced.coerced)
