"""graphql-core execution tuned for Tortoise models.

Tortoise's ``Model`` defines ``__await__`` (``await instance`` returns itself), so
graphql-core's awaitable check treats every model a resolver returns as a value to await:
one coroutine (and, in lists, one task) per object, which made the "synchronous" nested
fields asynchronous after all. A model is a finished value here, never a pending one.
Measured by bench/run.py: about 22 → 15 ms CPU per request for the feed query.

graphql-core asks "is this awaitable?" about every resolved value and every completed one
(~1,800 times for the feed query), so the answer is kept per type: whether a value can be
awaited depends on its class, except for generators (a generator-based coroutine is a
generator flagged by ``types.coroutine``), which are asked every time.

Plain leaves (a scalar or enum read straight off the object: Strawberry's "basic" fields,
about half the fields of a typical result) skip graphql-core's per-field machinery (the
resolve-info tuple, Strawberry's default-resolver layers, the completion dispatch): the
value is read and coerced exactly as ``execute_field`` would, and anything unusual (an
exception, a null for a non-null field, an awaitable, a coercion failure) is handed to
``execute_field`` itself so that errors are reported the usual way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import GeneratorType
from typing import Any

from graphql import GraphQLField, GraphQLObjectType, GraphQLOutputType, Undefined
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import AwaitableOrValue, Path
from graphql.type import GraphQLLeafType, get_nullable_type, is_leaf_type, is_non_null_type
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from tortoise.models import Model

_AWAITABLE_BY_TYPE: dict[type, bool] = {}


def awaitable_check(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """``check`` (Strawberry's predicate), answered once per type; models are never
    awaitable."""

    def is_awaitable(value: Any) -> bool:
        value_type = type(value)
        verdict = _AWAITABLE_BY_TYPE.get(value_type)
        if verdict is not None:
            return verdict
        if value_type is GeneratorType:
            return check(value)
        verdict = not issubclass(value_type, Model) and check(value)
        _AWAITABLE_BY_TYPE[value_type] = verdict
        return verdict

    return is_awaitable


@dataclass(frozen=True, slots=True)
class PlainLeaf:
    attribute: str
    type_: GraphQLLeafType
    nullable: bool


_PLAIN_LEAF = "agora-plain-leaf"


def plain_leaf(field: GraphQLField) -> PlainLeaf | None:
    """The field as a plain leaf, or None when it needs graphql-core's full path: arguments,
    a resolver of its own, Strawberry extensions, or an object type. Kept in the field's
    extensions after the first look."""
    extensions = field.extensions
    if _PLAIN_LEAF not in extensions:
        extensions[_PLAIN_LEAF] = _as_plain_leaf(field)
    leaf: PlainLeaf | None = extensions[_PLAIN_LEAF]
    return leaf


def _as_plain_leaf(field: GraphQLField) -> PlainLeaf | None:
    definition = field.extensions.get("strawberry-definition")
    resolve = field.resolve
    if (
        definition is None
        or field.args
        or not definition.is_basic_field
        or definition.default_resolver is not getattr
        # Strawberry's resolver for a basic field (not a wrapper installed by us or others)
        or getattr(resolve, "__name__", None) != "_get_basic_result"
    ):
        return None
    type_: GraphQLOutputType = field.type
    nullable = not is_non_null_type(type_)
    named = get_nullable_type(type_)
    if not is_leaf_type(named):
        return None
    return PlainLeaf(definition.python_name, named, nullable)


class ModelAwareExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.is_awaitable = awaitable_check(self.is_awaitable)  # type: ignore[assignment]
        # Strawberry always passes a manager; it wraps resolvers only when a schema
        # extension implements ``resolve`` (then every field takes the full path).
        manager = self.middleware_manager
        self.plain_leaves = manager is None or not manager.middlewares

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> AwaitableOrValue[Any]:
        field = parent_type.fields.get(field_details_list[0].node.name.value)
        if field is not None and self.plain_leaves:
            leaf = plain_leaf(field)
            if leaf is not None:
                try:
                    value = getattr(source, leaf.attribute)
                    if value is None:
                        if leaf.nullable:
                            return None
                    elif not self.is_awaitable(value):
                        coerced = leaf.type_.coerce_output_value(value)
                        if coerced is not None and coerced is not Undefined:
                            return coerced
                except Exception:  # noqa: BLE001, S110 - execute_field reports it
                    pass
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )
