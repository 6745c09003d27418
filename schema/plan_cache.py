"""The compiled plans of recent operations: a bounded LRU by document text and operation.

A plan names the prefetched values by the ids of the document's field nodes
(``resolvers/attachments.py``), so it is good only for the very document object it was
compiled from: the entry keeps that operation (and its fragments) alive, so their ids stay
their own, and an entry whose document was parsed anew (the parse cache evicted it, or a
long text is never cached) starts over. A document is compiled the second time it runs
with the same object, so one-off documents never pay for a compilation; persisted and
repeated documents pay once. Texts too long for the parse cache are not kept either.

``@skip``/``@include`` with a variable change which fields are collected, so a plan is kept
per value of those variables.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Mapping
from typing import Any

from graphql import (
    DirectiveNode,
    FragmentDefinitionNode,
    GraphQLSchema,
    OperationDefinitionNode,
    VariableNode,
    Visitor,
    visit,
)

from schema.compiled_plan import Completer
from schema.extensions import CACHEABLE_QUERY_LENGTH

PLAN_CACHE_SIZE = 512  # documents, as many as the parse cache keeps (schema/extensions.py)
COMPLETERS_PER_OPERATION = 64  # fields x @skip/@include variants of one operation
_PLAN_CACHE = "agora-plans"  # GraphQLSchema.extensions: the schema's PlanCache

_SWITCHES = frozenset({"skip", "include"})
_INCREMENTAL = frozenset({"defer", "stream"})


class _DirectiveScan(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.switch_variables: set[str] = set()
        self.incremental = False
        self.fragment_arguments = False

    def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
        name = node.name.value
        if name in _INCREMENTAL:
            self.incremental = True
        elif name in _SWITCHES:
            for argument in node.arguments or ():
                if isinstance(argument.value, VariableNode):
                    self.switch_variables.add(argument.value.name.value)

    def enter_fragment_definition(self, node: FragmentDefinitionNode, *_: Any) -> None:
        if node.variable_definitions:
            self.fragment_arguments = True


class OperationPlans:
    """The completers compiled for one operation of one document object."""

    def __init__(
        self,
        operation: OperationDefinitionNode,
        fragment_definitions: Mapping[str, FragmentDefinitionNode],
    ) -> None:
        # Kept alive: their field nodes' ids are the plans' attachment slots.
        self.operation = operation
        self.fragments = tuple(fragment_definitions.values())
        scan = _DirectiveScan()
        for node in (operation, *self.fragments):
            visit(node, scan)
        self.plannable = not (scan.incremental or scan.fragment_arguments)
        self.switch_variables = tuple(sorted(scan.switch_variables))
        self.completers: dict[Hashable, Completer | None] = {}

    def variant(self, variables: Mapping[str, Any]) -> Hashable:
        """What the request's variables change in field collection."""
        return tuple(variables.get(name) for name in self.switch_variables)

    def keep(self, key: Hashable, completer: Completer | None) -> None:
        if len(self.completers) < COMPLETERS_PER_OPERATION:
            self.completers[key] = completer


class PlanCache:
    def __init__(self, size: int = PLAN_CACHE_SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[str, str | None], OperationPlans] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def plans_for(
        self,
        operation: OperationDefinitionNode,
        fragment_definitions: Mapping[str, FragmentDefinitionNode],
        eager: bool = False,
    ) -> OperationPlans | None:
        """The operation's plans from its second run with the same document object on (from
        its first when ``eager``); None when it is not to be compiled (yet, or ever:
        ``@defer``/``@stream``)."""
        location = operation.loc
        if location is None or len(location.source.body) > CACHEABLE_QUERY_LENGTH:
            return None  # as the parse cache, which parses long texts anew every time
        key = (location.source.body, operation.name.value if operation.name else None)
        entries = self._entries
        plans = entries.get(key)
        if plans is None or plans.operation is not operation:
            plans = entries[key] = OperationPlans(operation, fragment_definitions)
            entries.move_to_end(key)
            while len(entries) > self.size:
                entries.popitem(last=False)
            return plans if eager and plans.plannable else None
        entries.move_to_end(key)
        return plans if plans.plannable else None


def plan_cache(schema: GraphQLSchema) -> PlanCache:
    """The schema's plan cache (made on first use, kept in the graphql-core schema)."""
    cache: PlanCache | None = schema.extensions.get(_PLAN_CACHE)
    if cache is None:
        cache = schema.extensions[_PLAN_CACHE] = PlanCache()
    return cache
