"""Compiled completion plans: a selection's result built by generated Python code.

As graphql-jit does for graphql-js, the completion of a field's value (everything below a
resolver) is compiled once per document into straight-line functions, one per selection
set: each field's reader is bound ahead of time (a plain attribute, the value the level's
prefetch attached under the field's nodes, ``__typename``, a resolver of the object alone
such as a global ID or a cursor), each leaf's serializer too (an
inline check for the common ``str``/``int``/``bool`` values), lists are comprehensions,
and the response dict is built as one literal in graphql-core's field order. No resolve
info, no ``Path``, no per-field dispatch.

A plan only reads (attributes, attachments, and resolvers that cannot reach the request),
so it never has to be undone: whatever it
cannot answer exactly as graphql-core would (a null in a non-null position, a value not
prefetched, an awaitable, a value a serializer refuses, the wrong object type, an
exception) raises inside the generated code, and the caller completes the same resolved
value through graphql-core's own path, which then reports it the usual way (same data,
same errors, same order: the plan produced nothing). A selection it cannot compile at all
(a field whose resolver takes the info or arguments or is async, and that nothing
prefetches; an interface or union;
``@defer``/``@stream``, fragment arguments) has no plan and always takes that path.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Hashable
from types import GeneratorType
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    Undefined,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.type import GraphQLLeafType, is_leaf_type

from resolvers.attachments import ATTACHED, MISSING, PREFETCHED_FIELD, slot
from schema.basic_fields import basic_attribute, object_only_resolver
from vocabulary.type_checks import is_decided_by_class

Completer = Callable[[Any], Any]
"""A compiled completion: the resolved value → the completed result, or ``BAIL``."""

BAIL: Any = object()
"""What a completer returns when graphql-core's own path must complete the value."""

CollectSubfields = Callable[[GraphQLObjectType, FieldDetailsList], Any]


class Bail(Exception):
    """Raised inside a plan: the value needs graphql-core's own path."""


class NotCompilable(Exception):
    """The selection has a field a plan cannot answer by reading (compile time)."""


_NEVER_AWAITABLE = frozenset({str, int, float, bool})


def leaf_reader(
    type_: GraphQLLeafType, nullable: bool, is_awaitable: Callable[[Any], bool]
) -> Callable[[Any], Any]:
    """The slow path of a leaf: null, awaitable and serializer checks as graphql-core's
    ``complete_leaf_value`` would make them (anything it would report raises ``Bail``)."""
    coerce = type_.coerce_output_value

    def read(value: Any) -> Any:
        if value is None:
            if nullable:
                return None
            raise Bail
        if value.__class__ not in _NEVER_AWAITABLE and is_awaitable(value):
            raise Bail
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise Bail
        return coerced

    return read


def _fast_leaf_check(type_: GraphQLLeafType, name: str) -> str | None:
    """A condition under which the value is already its own serialization, inline."""
    if type_ is GraphQLString or type_ is GraphQLID:
        return f"{name}.__class__ is str"
    if type_ is GraphQLInt:
        return f"{name}.__class__ is int and -2147483648 <= {name} <= 2147483647"
    if type_ is GraphQLBoolean:
        return f"{name} is True or {name} is False"
    return None


class PlanCompiler:
    """Generates the functions of one completion; ``collect_subfields`` is the executor's
    (graphql-core's field collection, so the grouping and order are its own)."""

    def __init__(
        self, collect_subfields: CollectSubfields, is_awaitable: Callable[[Any], bool]
    ) -> None:
        self._collect_subfields = collect_subfields
        self._is_awaitable = is_awaitable
        self._lines: list[str] = []
        self._namespace: dict[str, Any] = {
            "Bail": Bail,
            "MISSING": MISSING,
            "ATTACHED": ATTACHED,
            "aw": is_awaitable,
            "GeneratorType": GeneratorType,
        }
        self._count = 0

    def compile(
        self, return_type: GraphQLOutputType, field_details_list: FieldDetailsList
    ) -> Completer:
        """The completer of a field of ``return_type`` selected by ``field_details_list``;
        raises ``NotCompilable``."""
        body = self._value_function(return_type, field_details_list)
        self._lines += [
            "def complete(value):",
            "    try:",
            f"        return {body}(value)",
            "    except Exception:",
            "        return BAIL",
        ]
        self._namespace["BAIL"] = BAIL
        exec("\n".join(self._lines), self._namespace)  # noqa: S102 - our generated code
        completer: Completer = self._namespace["complete"]
        return completer

    def _name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}{self._count}"

    def _constant(self, prefix: str, value: Any) -> str:
        name = self._name(prefix)
        self._namespace[name] = value
        return name

    def _value_function(
        self, type_: GraphQLOutputType, field_details_list: FieldDetailsList
    ) -> str:
        """A function completing a value of ``type_`` (null included): its name."""
        nullable = not isinstance(type_, GraphQLNonNull)
        named = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        if isinstance(named, GraphQLList):
            return self._list_function(named, nullable, field_details_list)
        if isinstance(named, GraphQLObjectType):
            return self._object_function(named, nullable, field_details_list)
        if is_leaf_type(named):
            return self._constant("leaf", leaf_reader(named, nullable, self._is_awaitable))
        raise NotCompilable(f"abstract type {named}")

    def _list_function(
        self, type_: GraphQLList[Any], nullable: bool, field_details_list: FieldDetailsList
    ) -> str:
        item = self._value_function(type_.of_type, field_details_list)
        name = self._name("list")
        self._lines += [
            f"def {name}(value):",
            "    if value is None:",
            "        return None" if nullable else "        raise Bail",
            # another iterable (or an awaitable) goes graphql-core's way
            "    if value.__class__ is not list:",
            "        raise Bail",
            f"    return [{item}(item) for item in value]",
            "",
        ]
        return name

    def _object_function(
        self, type_: GraphQLObjectType, nullable: bool, field_details_list: FieldDetailsList
    ) -> str:
        grouped_field_set, new_defer_usages, *_ = self._collect_subfields(type_, field_details_list)
        if new_defer_usages:
            raise NotCompilable("@defer")
        name = self._name("object")
        # Classes already seen to pass the checks that depend on the class alone: the
        # awaitable check (answered per type, generators aside) and an is_type_of marked
        # @decided_by_class; one set lookup per object instead of the calls.
        passed = self._constant("passed", set())
        head = [
            f"def {name}(o):",
            "    if o is None:",
            "        return None" if nullable else "        raise Bail",
            f"    if o.__class__ not in {passed}:",
            "        if aw(o):",
            "            raise Bail",
        ]
        is_type_of = type_.is_type_of
        if is_type_of is not None and is_decided_by_class(is_type_of):
            check = self._constant("is_type_of", is_type_of)
            head += [f"        if {check}(o, None) is not True:", "            raise Bail"]
            is_type_of = None
        head += [
            "        if o.__class__ is not GeneratorType:",
            f"            {passed}.add(o.__class__)",
        ]
        if is_type_of is not None:
            # This schema's is_type_of (ours, and Strawberry's generated ones) ignore the info.
            check = self._constant("is_type_of", is_type_of)
            head += [f"    if {check}(o, None) is not True:", "        raise Bail"]
        body: list[str] = []
        entries: list[str] = []
        reads_attachments = False
        for index, (response_name, field_list) in enumerate(grouped_field_set.items()):
            value = f"v{index}"
            entries.append(f"{response_name!r}: {value}")
            reads_attachments |= self._field(type_, field_list, value, body)
        if reads_attachments:
            head += [
                "    a = o.__dict__.get(ATTACHED)",
                "    if a is None:",
                "        raise Bail",
            ]
        self._lines += [*head, *body, "    return {" + ", ".join(entries) + "}", ""]
        return name

    def _field(
        self,
        parent: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        value: str,
        body: list[str],
    ) -> bool:
        """Lines reading and completing one field into ``value``; True when it reads an
        attachment."""
        if any(details.fragment_variable_values for details in field_details_list):
            raise NotCompilable("fragment arguments")
        field_name = field_details_list[0].node.name.value
        if field_name == "__typename":
            body.append(f"    {value} = {parent.name!r}")
            return False
        field: GraphQLField | None = parent.fields.get(field_name)
        if field is None:
            raise NotCompilable(f"{parent.name}.{field_name}")
        prefetched = bool(field.extensions.get(PREFETCHED_FIELD))
        if prefetched:
            key: Hashable = slot([details.node for details in field_details_list])
            body += [
                f"    {value} = a.get({self._constant('slot', key)}, MISSING)",
                f"    if {value} is MISSING:",
                "        raise Bail",
            ]
        elif (attribute := basic_attribute(field)) is None:
            resolve = object_only_resolver(field)
            if resolve is None:
                raise NotCompilable(f"{parent.name}.{field_name} has a resolver")
            body.append(f"    {value} = {self._constant('resolve', resolve)}(o)")
        else:
            if attribute.isidentifier() and not keyword.iskeyword(attribute):
                body.append(f"    {value} = o.{attribute}")
            else:
                body.append(f"    {value} = getattr(o, {attribute!r})")
        self._complete_into(field.type, field_details_list, value, body)
        return prefetched

    def _complete_into(
        self,
        type_: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        value: str,
        body: list[str],
    ) -> None:
        named = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        fast = _fast_leaf_check(named, value) if is_leaf_type(named) else None
        function = self._value_function(type_, field_details_list)
        if fast is None:
            body.append(f"    {value} = {function}({value})")
        else:
            body += [f"    if not ({fast}):", f"        {value} = {function}({value})"]
