"""Query cost: declared next to each field with ``@cost`` and ``@listSize`` (IBM's GraphQL Cost
Directive spec, so gateways read the same model), computed before and after execution.

Rules (the README has a worked example):
- a field returning an object costs 1, a scalar or enum 0, unless it declares ``@cost(weight)``;
- every root mutation field costs 10 unless it declares otherwise;
- ``@listSize`` is the one declaration of sizes: a connection declares
  ``slicingArguments: ["first", "last"], sizedFields: ["edges", "nodes"], assumedSize: 20``
  and multiplies the cost of those lists below it by the larger of its slicing arguments,
  its ``assumedSize`` when neither is given; another list multiplies itself by its own
  slicing argument (``limit``, or that argument's default), else its ``assumedSize``; a list
  without ``@listSize`` counts once;
- ``first``/``last`` must be between 0 and 100 (BAD_USER_INPUT otherwise);
- introspection (``__schema``, ``__type``) costs a flat ``INTROSPECTION_COST``;
- a root mutation field is charged its weight even when it answers null (it did its work).
The cost limiter charges every operation at least ``MINIMUM_OPERATION_COST``.
The actual cost walks the same priced fields over the result, counting the items really returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import cached_property
from typing import Any

from graphql import (
    ArgumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInt,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    get_named_type,
    is_composite_type,
    value_from_ast,
    value_from_ast_untyped,
)

from schema.node_memo import NodeMemo
from services.errors import BadUserInput
from services.pagination import DEFAULT_PAGE_SIZE
from vocabulary.directives import (
    SLICING_ARGUMENTS,
    Cost,
    ListSize,
)

MAX_PAGE_SIZE = 100
MUTATION_COST = 10
INTROSPECTION_COST = 10
MINIMUM_OPERATION_COST = 1


_DECLARED = "agora-declared-cost"
_DECLARED_SIZE = "agora-declared-list-size"


def _directive(field: GraphQLField, kind: type[Any], slot: str) -> Any:
    """The field's directive of ``kind``, looked up once and kept in the field's extensions."""
    extensions = field.extensions
    if slot not in extensions:
        definition = extensions.get("strawberry-definition")
        extensions[slot] = next(
            (d for d in getattr(definition, "directives", None) or () if isinstance(d, kind)),
            None,
        )
    return extensions[slot]


def declared_cost(field: GraphQLField) -> Cost | None:
    """The field's ``@cost``."""
    declared: Cost | None = _directive(field, Cost, _DECLARED)
    return declared


def declared_list_size(field: GraphQLField) -> ListSize | None:
    """The field's ``@listSize``."""
    declared: ListSize | None = _directive(field, ListSize, _DECLARED_SIZE)
    return declared


def _names(value: list[str] | None) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, list) else ()


def page_size(arguments: Mapping[str, Any]) -> int:
    """The number of items a connection may return; raises BAD_USER_INPUT when out of range."""
    sizes = []
    for name in SLICING_ARGUMENTS:
        value = arguments.get(name)
        if value is None:
            continue
        if not isinstance(value, int) or value < 0 or value > MAX_PAGE_SIZE:
            raise BadUserInput(
                f"`{name}` must be between 0 and {MAX_PAGE_SIZE}, got {value}",
                argument=name,
            )
        sizes.append(value)
    return max(sizes) if sizes else DEFAULT_PAGE_SIZE


def _is_list(type_: GraphQLOutputType) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


@dataclass(frozen=True, slots=True)
class PricedField:
    """One field of an operation as the cost rules see it, with what the document fixes
    (its definition, weight, list-ness, arguments) worked out once. Fields that can never
    cost anything (scalars without ``@cost``, with nothing priced below) are left out."""

    key: str
    name: str
    field: GraphQLField | None
    weight: int
    is_list: bool
    # From its @listSize: the arguments that size it, the lists below it they size (a
    # connection's edges and nodes), and its size when no slicing argument is given.
    slicing_arguments: tuple[str, ...]
    sized_fields: tuple[str, ...]
    assumed_size: int | None
    arguments: tuple[ArgumentNode, ...]  # only the slicing arguments
    children: tuple[PricedField, ...]

    @property
    def is_introspection(self) -> bool:
        return self.field is None


# A plan keeps no document nodes but a few arguments, so evicted documents are not retained.
_plans: NodeMemo[OperationDefinitionNode, tuple[PricedField, ...]] = NodeMemo(512)


@dataclass
class CostAnalysis:
    """Computes requested and actual cost of one operation of a validated document.

    The operation's priced fields are compiled once per operation node (documents come
    from the parse cache, so a repeated query reuses its plan); both costs then walk only
    the fields that can cost something."""

    schema: GraphQLSchema
    operation: OperationDefinitionNode
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]
    _compiled_fragments: dict[tuple[str, bool], tuple[PricedField, ...]] = dataclass_field(
        default_factory=dict, init=False, repr=False
    )

    def requested(self) -> int:
        return self._requested(self._plan(), None)

    def actual(self, data: Mapping[str, Any] | None) -> int:
        if data is None:
            return 0
        return self._actual(self._plan(), data, is_root=True)

    # --- the plan -----------------------------------------------------------------------

    def _plan(self) -> tuple[PricedField, ...]:
        return _plans.get(self.operation, self._compile_operation, scope=id(self.schema))

    def _compile_operation(self) -> tuple[PricedField, ...]:
        root = self.schema.get_root_type(self.operation.operation)
        assert root is not None, "validated documents only name existing root types"
        return self._compile(self.operation.selection_set, root, is_root=True)

    def _compile(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType, *, is_root: bool
    ) -> tuple[PricedField, ...]:
        """The priced fields of ``selection_set``, through fragments; a fragment is compiled
        once and its fields reused wherever it is spread."""
        if selection_set is None:
            return ()
        priced: list[PricedField] = []
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                field = self._price(selection, parent, is_root)
                if field is not None:
                    priced.append(field)
            elif isinstance(selection, InlineFragmentNode):
                type_ = (
                    self.schema.get_type(selection.type_condition.name.value)
                    if selection.type_condition
                    else parent
                )
                priced.extend(
                    self._compile(selection.selection_set, type_ or parent, is_root=is_root)
                )
            elif isinstance(selection, FragmentSpreadNode):
                priced.extend(self._compile_fragment(selection.name.value, parent, is_root))
        return tuple(priced)

    def _compile_fragment(
        self, name: str, parent: GraphQLNamedType, is_root: bool
    ) -> tuple[PricedField, ...]:
        key = (name, is_root)
        compiled = self._compiled_fragments.get(key)
        if compiled is None:
            fragment = self.fragments.get(name)
            if fragment is None:
                return ()
            type_ = self.schema.get_type(fragment.type_condition.name.value)
            compiled = self._compile(fragment.selection_set, type_ or parent, is_root=is_root)
            self._compiled_fragments[key] = compiled
        return compiled

    def _price(
        self, node: FieldNode, parent: GraphQLNamedType, is_root: bool
    ) -> PricedField | None:
        name = node.name.value
        key = node.alias.value if node.alias else name
        if name == "__typename":
            return None
        if name in ("__schema", "__type"):
            return PricedField(key, name, None, INTROSPECTION_COST, False, (), (), None, (), ())
        field = self._field_def(parent, name)
        if field is None:
            return None
        weight = self._base_weight(field, is_root)
        children = self._compile(node.selection_set, get_named_type(field.type), is_root=False)
        size = declared_list_size(field)
        sized_fields = _names(size.sized_fields) if size is not None else ()
        if not (weight or children or sized_fields):
            return None
        slicing_arguments = _names(size.slicing_arguments) if size is not None else ()
        assumed_size = size.assumed_size if size is not None else None
        return PricedField(
            key,
            name,
            field,
            weight,
            _is_list(field.type),
            slicing_arguments,
            sized_fields,
            assumed_size if isinstance(assumed_size, int) else None,
            tuple(
                argument
                for argument in node.arguments or ()
                if argument.name.value in slicing_arguments
            ),
            children,
        )

    def _base_weight(self, field: GraphQLField, is_root: bool) -> int:
        declared = declared_cost(field)
        if declared is not None:
            return declared.weight
        if is_root and self.operation.operation is OperationType.MUTATION:
            return MUTATION_COST
        return 1 if is_composite_type(get_named_type(field.type)) else 0

    def _field_def(self, parent: GraphQLNamedType, name: str) -> GraphQLField | None:
        fields = getattr(parent, "fields", None)
        return fields.get(name) if fields else None

    # --- requested cost: the plan under this request's variables ------------------------

    @cached_property
    def _variable_values(self) -> dict[str, Any]:
        """The request's variables over the operation's defaults."""
        values = {
            definition.variable.name.value: value_from_ast_untyped(definition.default_value)
            for definition in self.operation.variable_definitions or ()
            if definition.default_value is not None
        }
        values.update(self.variables)
        return values

    def _slice(self, field: GraphQLField, priced: PricedField) -> int | None:
        """The largest slicing argument given (or defaulted in the schema); None when there
        is none. ``first``/``last`` out of range are BAD_USER_INPUT, before execution."""
        given = {argument.name.value: argument for argument in priced.arguments}
        sizes: list[int] = []
        for name in priced.slicing_arguments:
            argument = given.get(name)
            if argument is not None:
                value = value_from_ast(argument.value, GraphQLInt, self._variable_values)
            else:
                definition = field.args.get(name)
                value = definition.default_value if definition is not None else None
            if value is None or value is Undefined:  # absent, null, or an omitted variable
                continue
            if name in SLICING_ARGUMENTS:
                sizes.append(page_size({name: value}))
            elif isinstance(value, int) and value >= 0:
                sizes.append(value)
        return max(sizes) if sizes else None

    def _size(self, field: GraphQLField, priced: PricedField) -> int | None:
        """What the field's @listSize says its list holds under this request's arguments."""
        size = self._slice(field, priced) if priced.slicing_arguments else None
        return priced.assumed_size if size is None else size

    def _requested(
        self,
        fields: tuple[PricedField, ...],
        list_size: int | None,
        sized_fields: tuple[str, ...] = (),
    ) -> int:
        total = 0
        for priced in fields:
            field = priced.field
            if field is None:
                total += priced.weight
                continue
            size = self._size(field, priced)
            multiplier = 1
            if priced.is_list:
                if list_size is not None and priced.name in sized_fields:
                    multiplier = list_size
                elif not priced.sized_fields and size is not None:
                    multiplier = size
            below = size if priced.sized_fields else None
            total += multiplier * (
                priced.weight + self._requested(priced.children, below, priced.sized_fields)
            )
        return total

    # --- actual cost: the plan over the result ------------------------------------------

    def _actual(
        self, fields: tuple[PricedField, ...], value: Mapping[str, Any], is_root: bool = False
    ) -> int:
        total = 0
        for priced in fields:
            if priced.key not in value:
                continue
            result = value[priced.key]
            if priced.field is None:
                total += priced.weight
            elif result is not None:
                total += self._actual_value(priced, result)
            elif is_root and self.operation.operation is OperationType.MUTATION:
                total += priced.weight  # a mutation did its work even when it answers null
        return total

    def _actual_value(self, priced: PricedField, value: Any) -> int:
        # exact-type checks first: the executor's results are plain lists and dicts, and
        # ``isinstance(value, Mapping)`` goes through the ABC machinery for every object
        value_type = type(value)
        if value_type is list or (value_type is not dict and isinstance(value, list)):
            total = 0
            children = priced.children
            for item in value:
                if item is None:
                    continue
                if children and type(item) is dict:  # a list of objects: one call less each
                    total += priced.weight + self._actual(children, item)
                else:
                    total += self._actual_value(priced, item)
            return total
        if priced.children and (value_type is dict or isinstance(value, Mapping)):
            return priced.weight + self._actual(priced.children, value)
        return priced.weight
