"""Document limits, checked on the parsed document before validation and execution.

The token limit is enforced by the parser itself (``schema.extensions.RequestPipeline.on_parse``).
Everything else is measured here in one pass over the document, before graphql-core's
validation rules and Strawberry's ``info.selected_fields`` walk it: some of those expand a
fragment anew at every spread, so a few hundred tokens whose fragments double at every level
(``F1 = F0 F0``, ``F2 = F1 F1``, … ``F25``) made them walk 2^25 fields for minutes. Here each
fragment is measured once, without recursion, and its size added wherever it is spread; a
document over a limit is refused with one ``QUERY_TOO_COMPLEX`` error that says what was found
and what is allowed. Once those limits hold, a second pass counts how often one response key
repeats at one place (``schema/field_repeats.py``), which bounds the work of graphql-core's
overlapping-fields rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    ASTValidationRule,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.language.parser import MAX_NESTING_DEPTH
from graphql.validation import MaxIntrospectionDepthRule
from graphql.validation.rules.max_introspection_depth_rule import MAX_LIST_DEPTH

from schema.field_repeats import Repeat, most_repeated
from schema.fragment_order import dependency_order
from schema.node_memo import NodeMemo
from services.errors import ErrorCode

TOO_COMPLEX = {"code": ErrorCode.QUERY_TOO_COMPLEX.value}
# Expanded field counts are kept up to here: a document of 2,000 tokens can describe 10^200
# fields, and its refusal should not print them all.
FIELD_COUNT_CEILING = 1_000_000_000


@dataclass(frozen=True)
class DocumentLimitSettings:
    max_depth: int
    max_fields: int
    max_field_repeats: int
    max_aliases: int
    max_directives: int
    max_directives_per_location: int
    max_operations: int
    max_tokens: int


def too_complex(message: str, nodes: Node | list[Node] | None = None) -> GraphQLError:
    return GraphQLError(message, nodes, extensions=dict(TOO_COMPLEX))


@dataclass(frozen=True, slots=True)
class Definition:
    """An operation or fragment with its fragments expanded."""

    kind: str  # "Operation" or "Fragment"
    name: str
    fields: int  # every field, counted again wherever a fragment is spread
    depth: int  # levels of fields; introspection is not counted
    nesting: int  # levels of selection sets, through inline fragments and spreads


@dataclass(frozen=True, slots=True)
class DocumentShape:
    operations: int
    aliases: int
    directives: int
    most_directives: int  # on one location (a field, a spread, an operation, …)
    most_directives_on: str  # the kind of that location
    definitions: tuple[Definition, ...]


@dataclass(slots=True)
class _Selections:
    """One definition's own selection sets, its spreads not yet expanded."""

    fields: int = 0
    depth: int = 0
    nesting: int = 0
    # (fragment, field depth at the spread or None inside introspection, nesting at the spread)
    spreads: list[tuple[str, int | None, int]] = field(default_factory=list)


def _selections(selection_set: SelectionSetNode) -> _Selections:
    found = _Selections()
    stack: list[tuple[SelectionSetNode, int | None, int]] = [(selection_set, 0, 1)]
    while stack:
        current, depth, nesting = stack.pop()
        found.nesting = max(found.nesting, nesting)
        for selection in current.selections:
            if isinstance(selection, FieldNode):
                found.fields += 1
                below = depth
                if depth is not None:
                    below = None if selection.name.value.startswith("__") else depth + 1
                    found.depth = max(found.depth, below or 0)
                if selection.selection_set:
                    stack.append((selection.selection_set, below, nesting + 1))
            elif isinstance(selection, InlineFragmentNode):
                stack.append((selection.selection_set, depth, nesting + 1))
            elif isinstance(selection, FragmentSpreadNode):
                found.spreads.append((selection.name.value, depth, nesting))
    return found


def _expand(own: _Selections, expanded: dict[str, tuple[int, int, int]]) -> tuple[int, int, int]:
    """Fields, depth and nesting of ``own`` with the fragments it spreads (unknown fragments,
    and the spread closing a cycle, add nothing here: validation reports them)."""
    fields, depth, nesting = own.fields, own.depth, own.nesting
    for name, spread_depth, spread_nesting in own.spreads:
        fragment_fields, fragment_depth, fragment_nesting = expanded.get(name, (0, 0, 0))
        fields = min(fields + fragment_fields, FIELD_COUNT_CEILING)
        if spread_depth is not None:
            depth = max(depth, spread_depth + fragment_depth)
        nesting = max(nesting, spread_nesting + fragment_nesting)
    return fields, depth, nesting


def _expand_fragments(own: dict[str, _Selections]) -> dict[str, tuple[int, int, int]]:
    """Every fragment expanded once, each after the fragments it spreads."""
    spreads = {name: [spread for spread, _, _ in found.spreads] for name, found in own.items()}
    expanded: dict[str, tuple[int, int, int]] = {}
    for name in dependency_order(spreads):
        expanded[name] = _expand(own[name], expanded)
    return expanded


def _literal_counts(document: DocumentNode) -> tuple[int, int, int, str]:
    """Aliases, directives, and the most directives on one location, in the text as written."""
    aliases = directives = most = 0
    most_on = ""
    stack: list[Node] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, FieldNode) and node.alias is not None:
            aliases += 1
        on_node: tuple[DirectiveNode, ...] | None = getattr(node, "directives", None)
        if on_node:
            directives += len(on_node)
            if len(on_node) > most:
                most, most_on = len(on_node), node.kind.replace("_", " ")
        for key in node.keys:
            value: Any = getattr(node, key, None)
            if isinstance(value, Node):
                stack.append(value)
            elif isinstance(value, (tuple, list)):
                stack.extend(item for item in value if isinstance(item, Node))
    return aliases, directives, most, most_on


def measure(document: DocumentNode) -> DocumentShape:
    """The shape of a document (any document that parses: unknown and cyclic fragments
    included), in time linear in its size."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    expanded = _expand_fragments(
        {name: _selections(fragment.selection_set) for name, fragment in fragments.items()}
    )
    definitions = [
        Definition(
            "Operation",
            operation.name.value if operation.name else "anonymous",
            *_expand(_selections(operation.selection_set), expanded),
        )
        for operation in operations
    ]
    definitions += [Definition("Fragment", name, *expanded[name]) for name in fragments]
    aliases, directives, most, most_on = _literal_counts(document)
    return DocumentShape(len(operations), aliases, directives, most, most_on, tuple(definitions))


_shapes: NodeMemo[DocumentNode, DocumentShape] = NodeMemo(512)
_repeats: NodeMemo[DocumentNode, Repeat | None] = NodeMemo(512)


def _count(count: int) -> str:
    return f"more than {FIELD_COUNT_CEILING - 1}" if count >= FIELD_COUNT_CEILING else str(count)


def refusal(shape: DocumentShape, limits: DocumentLimitSettings) -> str | None:
    """Why the document is refused (the first limit it is over), or None."""
    if shape.operations > limits.max_operations:
        return (
            f"Document defines {shape.operations} operations; "
            f"the maximum is {limits.max_operations}"
        )
    if shape.most_directives > limits.max_directives_per_location:
        return (
            f"Document puts {shape.most_directives} directives on one {shape.most_directives_on}; "
            f"the maximum per location is {limits.max_directives_per_location}"
        )
    if shape.directives > limits.max_directives:
        return (
            f"Document uses {shape.directives} directives; the maximum is {limits.max_directives}"
        )
    if shape.aliases > limits.max_aliases:
        return f"Document uses {shape.aliases} aliases; the maximum is {limits.max_aliases}"
    for definition in shape.definitions:
        label = f"{definition.kind} '{definition.name}'"
        if definition.nesting > MAX_NESTING_DEPTH:
            return (
                f"{label} nests {definition.nesting} selection sets through its fragments; "
                f"the maximum is {MAX_NESTING_DEPTH}"
            )
        if definition.fields > limits.max_fields:
            return (
                f"{label} selects {_count(definition.fields)} fields once its fragments are "
                f"expanded; the maximum is {limits.max_fields}"
            )
        if definition.kind == "Operation" and definition.depth > limits.max_depth:
            return f"{label} is {definition.depth} levels deep; the maximum is {limits.max_depth}"
    return None


def repeat_refusal(repeat: Repeat | None, limits: DocumentLimitSettings) -> str | None:
    if repeat is None or repeat.count <= limits.max_field_repeats:
        return None
    return (
        f"{repeat.kind} '{repeat.name}' selects '{repeat.path}' {repeat.count} times once its "
        "fragments are expanded and the fields under one response key merged; the maximum "
        f"is {limits.max_field_repeats}"
    )


def check_document(document: DocumentNode, limits: DocumentLimitSettings) -> str | None:
    """``refusal`` for a document, then (its work bounded by the field limit) the most a key
    repeats at one place, each measured once per document object."""
    reason = refusal(_shapes.get(document, lambda: measure(document)), limits)
    if reason is not None:
        return reason
    return repeat_refusal(_repeats.get(document, lambda: most_repeated(document)), limits)


class IntrospectionDepthLimit(MaxIntrospectionDepthRule):
    """graphql-core's introspection-depth rule (one of its specified rules), refused with
    QUERY_TOO_COMPLEX like every other limit instead of a plain validation error."""

    def report_error(self, error: GraphQLError) -> None:
        super().report_error(
            too_complex(
                f"Introspection nests `fields`, `interfaces`, `possibleTypes` or `inputFields` "
                f"{MAX_LIST_DEPTH} levels deep; the maximum is {MAX_LIST_DEPTH - 1}",
                list(error.nodes or ()),
            )
        )


def with_limit_rules(
    rules: tuple[type[ASTValidationRule], ...],
) -> tuple[type[ASTValidationRule], ...]:
    """The validation rules with graphql-core's introspection-depth rule replaced by ours."""
    return tuple(
        IntrospectionDepthLimit if rule is MaxIntrospectionDepthRule else rule for rule in rules
    )
