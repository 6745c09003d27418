"""``@defer`` and ``@stream``: whether an operation asks for incremental delivery, and the
refusal of it where the response cannot carry it.

graphql-core answers an operation with an active ``@defer``/``@stream`` (``if`` not false,
not under a skipped selection) with an initial result and a stream of later payloads. Only
the HTTP view can send those (``multipart/mixed``, ``server/incremental/``), and only to a
client that accepts them, one operation per request. Anywhere else the operation is refused
before it runs: nothing is executed (no mutation half done), nothing is charged. That is what
Apollo Server and Apollo Router do for a client without ``multipart/mixed`` in ``Accept``
(406); Yoga answers 406 too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLIncludeDirective,
    GraphQLInt,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    get_operation_ast,
    value_from_ast,
    value_from_ast_untyped,
)
from strawberry.types import ExecutionContext

from schema.node_memo import NodeMemo
from services.errors import BadUserInput, NotAcceptable
from vocabulary.context import IncrementalDelivery

if TYPE_CHECKING:
    from vocabulary.context import Context

INCREMENTAL_DIRECTIVES = frozenset({"defer", "stream"})
ACCEPT_MULTIPART = "multipart/mixed;deferSpec=20220824, application/json"


def refusal(delivery: IncrementalDelivery) -> BadUserInput:
    if delivery is IncrementalDelivery.NOT_ACCEPTED:
        return NotAcceptable(
            "This operation uses incremental delivery (@defer or @stream), but the request "
            "does not accept multipart/mixed responses: send the header "
            f"'Accept: {ACCEPT_MULTIPART}'",
            reason="INCREMENTAL_DELIVERY_NOT_ACCEPTED",
        )
    if delivery is IncrementalDelivery.IN_BATCH:
        return BadUserInput(
            "@defer and @stream cannot be used in a batched request: send the operation on its own",
            reason="INCREMENTAL_DELIVERY_IN_BATCH",
        )
    return BadUserInput(
        "@defer and @stream are delivered over HTTP only (multipart/mixed): send the "
        "operation with POST or GET to this URL",
        reason="INCREMENTAL_DELIVERY_NOT_HTTP",
    )


def _selection_sets(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, SelectionSetNode],
    variables: Mapping[str, Any],
    visited: set[str],
) -> Iterator[SelectionNode]:
    """Every selection graphql-core may execute under ``selection_set`` (``@skip`` and
    ``@include`` applied), through fragments, each fragment once."""
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if not _included(selection, variables):
            continue
        yield selection
        if isinstance(selection, FieldNode | InlineFragmentNode):
            yield from _selection_sets(selection.selection_set, fragments, variables, visited)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name not in visited and name in fragments:
                visited.add(name)
                yield from _selection_sets(fragments[name], fragments, variables, visited)


def _condition(node: SelectionNode, directive: str, variables: Mapping[str, Any]) -> bool | None:
    """The ``if`` of ``directive`` on ``node``: None when absent; true unless it is false."""
    for applied in node.directives or ():
        if applied.name.value != directive:
            continue
        for argument in applied.arguments or ():
            if argument.name.value == "if":
                return value_from_ast(argument.value, GraphQLBoolean, dict(variables)) is not False
        return True
    return None


def _included(node: SelectionNode, variables: Mapping[str, Any]) -> bool:
    names = {directive.name.value for directive in node.directives or ()}
    if GraphQLSkipDirective.name in names and _condition(node, "skip", variables):
        return False
    return GraphQLIncludeDirective.name not in names or bool(_condition(node, "include", variables))


def _variables(operation: OperationDefinitionNode, given: Mapping[str, Any]) -> dict[str, Any]:
    values = {
        definition.variable.name.value: value_from_ast_untyped(definition.default_value)
        for definition in operation.variable_definitions or ()
        if definition.default_value is not None
    }
    values.update(given)
    return values


def _directive_names(selection_set: SelectionSetNode | None) -> Iterator[str]:
    for selection in selection_set.selections if selection_set else ():
        for directive in selection.directives or ():
            yield directive.name.value
        if isinstance(selection, FieldNode | InlineFragmentNode):
            yield from _directive_names(selection.selection_set)


# Per parsed document (the parse cache hands a repeated query the same one): whether it
# names @defer or @stream anywhere, so that most operations skip the walk below.
_MENTIONS: NodeMemo[DocumentNode, bool] = NodeMemo(512)


def _mentions_incremental(document: DocumentNode) -> bool:
    def compute() -> bool:
        return any(
            name in INCREMENTAL_DIRECTIVES
            for definition in document.definitions
            for name in _directive_names(getattr(definition, "selection_set", None))
        )

    return _MENTIONS.get(document, compute)


def _active(
    document: DocumentNode, operation_name: str | None, variables: Mapping[str, Any]
) -> tuple[list[SelectionNode], dict[str, Any]]:
    """The selections with a ``@defer`` or ``@stream`` graphql-core would honour, and the
    variables with the operation's defaults."""
    if not _mentions_incremental(document):
        return [], {}
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return [], {}
    fragments = {
        definition.name.value: definition.selection_set
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    values = _variables(operation, variables)
    active = [
        selection
        for selection in _selection_sets(operation.selection_set, fragments, values, set())
        if selection.directives
        and any(_condition(selection, name, values) for name in INCREMENTAL_DIRECTIVES)
    ]
    return active, values


def uses_incremental_delivery(
    document: DocumentNode, operation_name: str | None, variables: Mapping[str, Any]
) -> bool:
    """Whether the operation has a ``@defer`` or ``@stream`` graphql-core would honour."""
    return bool(_active(document, operation_name, variables)[0])


def check_initial_counts(selections: list[SelectionNode], variables: dict[str, Any]) -> None:
    """graphql-core refuses a negative ``@stream(initialCount:)`` with a plain ValueError
    while executing (an internal error, and no data); it is the client's input."""
    for selection in selections:
        for directive in selection.directives or ():
            if directive.name.value != "stream":
                continue
            for argument in directive.arguments or ():
                if argument.name.value == "initialCount":
                    count = value_from_ast(argument.value, GraphQLInt, variables)
                    if isinstance(count, int) and count < 0:
                        raise BadUserInput(
                            f"@stream(initialCount: {count}): initialCount must be 0 or more"
                        )


def check_incremental_delivery(ctx: ExecutionContext) -> None:
    """Refuses ``@defer``/``@stream`` before execution (and before the cost is charged)
    where the transport cannot deliver them (``Context.incremental_delivery``)."""
    document = ctx.graphql_document
    assert document is not None, "execution starts with a parsed document"
    variables = ctx.variables if isinstance(ctx.variables, dict) else {}
    active, values = _active(document, ctx.operation_name, variables)
    if active:
        check_initial_counts(active, values)
        context: Context | None = ctx.context
        delivery = getattr(context, "incremental_delivery", IncrementalDelivery.NOT_HTTP)
        if delivery is not IncrementalDelivery.ACCEPTED:
            raise refusal(delivery)
