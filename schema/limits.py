"""Document limits checked before execution: depth, aliases, directives and operations.

Each limit is a graphql-core validation rule built once for the configured maximum; its error
carries ``QUERY_TOO_COMPLEX`` and says what was found and what is allowed. The token limit is
enforced by the parser itself (see ``schema.extensions.DocumentLimits``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    ASTValidationRule,
    DirectiveNode,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.validation import ASTValidationContext

from services.errors import ErrorCode

TOO_COMPLEX = {"code": ErrorCode.QUERY_TOO_COMPLEX.value}


@dataclass(frozen=True)
class DocumentLimitSettings:
    max_depth: int
    max_aliases: int
    max_directives: int
    max_operations: int
    max_tokens: int


def too_complex(message: str, nodes: Node | list[Node] | None = None) -> GraphQLError:
    return GraphQLError(message, nodes, extensions=dict(TOO_COMPLEX))


def _selection_depth(
    context: ASTValidationContext, selection_set: SelectionSetNode | None, seen: frozenset[str]
) -> int:
    """Depth of the deepest field below ``selection_set``; introspection is not counted."""
    if selection_set is None:
        return 0
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value.startswith("__"):
                continue
            depth = 1 + _selection_depth(context, selection.selection_set, seen)
        elif isinstance(selection, InlineFragmentNode):
            depth = _selection_depth(context, selection.selection_set, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = context.get_fragment(name)
            if fragment is None or name in seen:  # cycles are reported by NoFragmentCycles
                continue
            depth = _selection_depth(context, fragment.selection_set, seen | {name})
        else:
            continue
        deepest = max(deepest, depth)
    return deepest


def build_limit_rules(limits: DocumentLimitSettings) -> tuple[type[ASTValidationRule], ...]:
    """The validation rules for these limits (build once: they key the validation cache)."""

    class MaxDepth(ASTValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            depth = _selection_depth(self.context, node.selection_set, frozenset())
            if depth > limits.max_depth:
                name = node.name.value if node.name else "anonymous"
                self.report_error(
                    too_complex(
                        f"Operation '{name}' is {depth} levels deep; "
                        f"the maximum is {limits.max_depth}",
                        node,
                    )
                )

    class MaxAliases(ASTValidationRule):
        count = 0

        def enter_field(self, node: FieldNode, *_: Any) -> None:
            if node.alias is not None:
                self.count += 1

        def leave_document(self, *_: Any) -> None:
            if self.count > limits.max_aliases:
                self.report_error(
                    too_complex(
                        f"Document uses {self.count} aliases; the maximum is {limits.max_aliases}"
                    )
                )

    class MaxDirectives(ASTValidationRule):
        count = 0

        def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
            self.count += 1

        def leave_document(self, *_: Any) -> None:
            if self.count > limits.max_directives:
                self.report_error(
                    too_complex(
                        f"Document uses {self.count} directives; "
                        f"the maximum is {limits.max_directives}"
                    )
                )

    class MaxOperations(ASTValidationRule):
        count = 0

        def enter_operation_definition(self, *_: Any) -> None:
            self.count += 1

        def leave_document(self, *_: Any) -> None:
            if self.count > limits.max_operations:
                self.report_error(
                    too_complex(
                        f"Document defines {self.count} operations; "
                        f"the maximum is {limits.max_operations}"
                    )
                )

    return (MaxDepth, MaxAliases, MaxDirectives, MaxOperations)
