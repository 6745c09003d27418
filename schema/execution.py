"""graphql-core execution tuned for Tortoise models.

Tortoise's ``Model`` defines ``__await__`` (``await instance`` returns itself), so
graphql-core's awaitable check treats every model a resolver returns as a value to await:
one coroutine (and, in lists, one task) per object, which made the "synchronous" nested
fields asynchronous after all. A model is a finished value here, never a pending one.

graphql-core asks "is this awaitable?" about every resolved value and every completed one,
so the answer is kept per type: whether a value can be
awaited depends on its class, except for generators (a generator-based coroutine is a
generator flagged by ``types.coroutine``), which are asked every time.

graphql-core 3.3 keeps ``GraphQLResolveInfoHelpers`` of the executor's own bound methods on
the executor: a reference cycle that kept every request's executor, context, loaders and
models alive until the cyclic garbage collector ran (a large share of the CPU under load;
README, "Troubleshooting"). The helpers here reach the executor through a weak reference
instead.

Plain leaves (a scalar or enum read straight off the object: Strawberry's "basic" fields,
about half the fields of a typical result) skip graphql-core's per-field machinery (the
resolve-info tuple, Strawberry's default-resolver layers, the completion dispatch): the
value is read and coerced exactly as ``execute_field`` would, and anything unusual (an
exception, a null for a non-null field, an awaitable, a coercion failure) is handed to
``execute_field`` itself so that errors are reported the usual way.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from types import GeneratorType
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLResolveInfoHelpers,
    Undefined,
)
from graphql.execution import Executor
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import AwaitableOrValue, Path, gather_with_cancel
from graphql.type import GraphQLLeafType, get_nullable_type, is_leaf_type, is_non_null_type
from strawberry.execution import optimized_is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from tortoise.models import Model

from resolvers.attachments import MISSING, PREFETCHED_FIELD, attached, slot
from schema.basic_fields import basic_attribute
from schema.compiled_plan import BAIL, Completer, NotCompilable, PlanCompiler
from schema.plan_cache import plan_cache
from schema.plan_checks import PLAN_CHECKS

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


@dataclass(frozen=True, slots=True)
class PlainObject:
    """An object-typed field whose value is an attribute (``attribute``) or what the level's
    prefetch attached (``attribute`` None): completed straight into its sub-selection."""

    attribute: str | None
    object_type: GraphQLObjectType
    return_type: GraphQLOutputType
    nullable: bool


_SHORTCUT = "agora-shortcut"

# response name, its fields, their shortcut, the slot of a prefetched plain object's value
FieldPlan = tuple[
    tuple[str, FieldDetailsList, "PlainLeaf | PlainObject | None", Hashable | None], ...
]


def _as_plain_leaf(field: GraphQLField) -> PlainLeaf | None:
    attribute = basic_attribute(field)
    named = get_nullable_type(field.type)
    if attribute is None or not is_leaf_type(named):
        return None
    return PlainLeaf(attribute, named, not is_non_null_type(field.type))


def shortcut(field: GraphQLField) -> PlainLeaf | PlainObject | None:
    """How the executor may complete the field without graphql-core's per-field path, or
    None when it may not (arguments, a resolver of its own, Strawberry extensions, a list,
    interface or union). Worked out once and kept in the field's extensions."""
    extensions = field.extensions
    if _SHORTCUT not in extensions:
        extensions[_SHORTCUT] = _as_plain_leaf(field) or _as_plain_object(field)
    found: PlainLeaf | PlainObject | None = extensions[_SHORTCUT]
    return found


def plain_leaf(field: GraphQLField) -> PlainLeaf | None:
    found = shortcut(field)
    return found if isinstance(found, PlainLeaf) else None


def plain_object(field: GraphQLField) -> PlainObject | None:
    found = shortcut(field)
    return found if isinstance(found, PlainObject) else None


def _as_plain_object(field: GraphQLField) -> PlainObject | None:
    """A basic or prefetched (relation) field of an object type."""
    named = get_nullable_type(field.type)
    prefetched = bool(field.extensions.get(PREFETCHED_FIELD))
    attribute = None if prefetched else basic_attribute(field)
    if not isinstance(named, GraphQLObjectType) or (attribute is None and not prefetched):
        return None
    return PlainObject(attribute, named, field.type, not is_non_null_type(field.type))


def weak_async_helpers(
    executor: StrawberryGraphQLCoreExecutionContext,
) -> GraphQLResolveInfoHelpers:
    """graphql-core's helpers for ``info.async_helpers``, without the cycle through the
    executor (it is alive for as long as a resolver can call them)."""
    reference = weakref.ref(executor)

    def gather(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
        live = reference()
        assert live is not None, "async helpers used after execution ended"
        return live.gather_async_work(values)

    def track(values: Sequence[Any]) -> None:
        live = reference()
        if live is not None:
            live.track_async_work(values)

    return GraphQLResolveInfoHelpers(gather=gather, track=track)


class PerEventExecutor(StrawberryGraphQLCoreExecutionContext):
    """An executor whose subscription events each get their own memos.

    graphql-core 3.3.2's ``build_per_event_executor`` is a shallow ``copy``: every event's
    executor shares the first one's ``collect_subfields`` memo, keyed by the identity of
    that event's field lists and keeping them alive. No later event can hit those entries
    (its lists are new), so the memo only grows: ~3 KB per event for every subscription
    stream, for its whole life (RSS +3 MB per event with 1,000 distinct viewers, never
    levelling off). The copy's ``async_helpers`` would also still point at the first
    executor."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.async_helpers = weak_async_helpers(self)

    def build_per_event_executor(self, payload: Any) -> Executor[Any]:
        executor = super().build_per_event_executor(payload)
        assert isinstance(executor, PerEventExecutor)
        executor.fresh_per_event_state()
        return executor

    def fresh_per_event_state(self) -> None:
        self._relevant_sub_fields = {}
        self.async_helpers = weak_async_helpers(self)


class StockExecutionContext(PerEventExecutor):
    """Strawberry's executor with graphql-core's own methods (``LIBRARY_SHORTCUTS=false``).
    Only the weak ``async_helpers`` and the per-event memos stay: they fix a reference cycle
    (memory held until the cyclic collector runs) and a leak, not a speed, and change no
    result."""


class ModelAwareExecutionContext(PerEventExecutor):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.is_awaitable = awaitable_check(self.is_awaitable)  # type: ignore[assignment]
        # Strawberry always passes a manager; it wraps resolvers only when a schema
        # extension implements ``resolve`` (then every field takes the full path).
        manager = self.middleware_manager
        self.plain_leaves = manager is None or not manager.middlewares
        self._field_plans: dict[int, tuple[GroupedFieldSet, FieldPlan]] = {}

    def fresh_per_event_state(self) -> None:
        super().fresh_per_event_state()
        self._field_plans = {}  # keyed by identity too, as the memo above

    def _field_plan(
        self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> FieldPlan:
        """The fields of a selection set with their shortcuts (plain leaves and objects),
        worked out once per execution (graphql-core reuses one grouped field set for every
        object of a list; the set is kept referenced so that its id stays its own)."""
        known = self._field_plans.get(id(grouped_field_set))
        if known is not None and known[0] is grouped_field_set:
            return known[1]
        fields = parent_type.fields
        entries = []
        for response_name, field_details_list in grouped_field_set.items():
            field = fields.get(field_details_list[0].node.name.value)
            found = shortcut(field) if self.plain_leaves and field is not None else None
            key = (
                slot([details.node for details in field_details_list])
                if isinstance(found, PlainObject) and found.attribute is None
                else None
            )
            entries.append((response_name, field_details_list, found, key))
        plan = tuple(entries)
        self._field_plans[id(grouped_field_set)] = (grouped_field_set, plan)
        return plan

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        """graphql-core 3.3's ``Executor.execute_fields`` (same loop, same error handling),
        with plain leaves answered inline. It replaces the method rather than wrapping it:
        every wrapper frame on this recursion deepens each level of the result, and past
        CPython 3.11's 16 KiB data-stack chunk every descent and return across the chunk
        boundary maps and unmaps a chunk (README, "Troubleshooting": a wrapper around
        ``execute_field`` did that to the feed query).
        tests/unit/test_execution.py fails when graphql-core's original changes."""
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        append_awaitable = awaitable_fields.append
        try:
            for response_name, field_details_list, shortcut, key in self._field_plan(
                parent_type, grouped_field_set
            ):
                if shortcut.__class__ is PlainLeaf:
                    value = _read_plain_leaf(shortcut, source_value, is_awaitable)
                    if value is not _FULL_PATH:
                        results[response_name] = value
                        continue
                elif shortcut is not None:
                    plain: PlainObject = shortcut  # type: ignore[assignment]
                    value = _read_plain_object(plain, source_value, key, is_awaitable)
                    if value is None:
                        results[response_name] = None
                        continue
                    if value is not _FULL_PATH:
                        result = self._complete_plain_object(
                            plain,
                            field_details_list,
                            Path(path, response_name, parent_type.name),
                            value,
                            position_context,
                        )
                        results[response_name] = result
                        if is_awaitable(result):
                            append_awaitable(response_name)
                        continue
                field_path = Path(path, response_name, parent_type.name)
                result = self.execute_field(
                    parent_type, source_value, field_details_list, field_path, position_context
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        append_awaitable(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise

        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                field = awaitable_fields[0]
                results[field] = await results[field]
            else:
                awaited_results = await gather_with_cancel(
                    *(results[field] for field in awaitable_fields)
                )
                results.update(zip(awaitable_fields, awaited_results, strict=True))
            return results

        return get_results()

    def complete_list_item_value(
        self,
        item: Any,
        complete_results: list[Any],
        item_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        item_path: Path,
        position_context: Any,
    ) -> bool:
        """graphql-core 3.3's ``complete_list_item_value`` (same error handling), where an
        object item of the list's object type goes straight into its sub-selection
        instead of through ``complete_value``'s dispatch (a list of 100 edges or nodes)."""
        is_awaitable = self.is_awaitable
        try:
            object_type = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
            if (
                isinstance(object_type, GraphQLObjectType)
                and item is not None
                and item is not Undefined
                and not isinstance(item, Exception)
                and (object_type.is_type_of is None or object_type.is_type_of(item, info) is True)
            ):
                completed_item = self._execute_subfields(
                    object_type, field_details_list, item_path, item, position_context
                )
            else:
                completed_item = self.complete_value(
                    item_type, field_details_list, info, item_path, item, position_context
                )
            if is_awaitable(completed_item):

                async def await_completed() -> Any:
                    try:
                        return await completed_item
                    except Exception as raw_error:  # noqa: BLE001 - as graphql-core
                        self.handle_field_error(raw_error, item_type, field_details_list, item_path)
                        return None

                complete_results.append(await_completed())
                return True
            complete_results.append(completed_item)
        except Exception as raw_error:  # noqa: BLE001 - as graphql-core
            self.handle_field_error(raw_error, item_type, field_details_list, item_path)
            complete_results.append(None)
        return False

    def _execute_subfields(
        self,
        object_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        path: Path,
        value: Any,
        position_context: Any,
    ) -> AwaitableOrValue[Any]:
        """``collect_and_execute_subfields``; without a ``@defer`` in play (no delivery
        group, no new defer usage) that is ``execute_fields`` on the memoized subfields,
        which is called here directly."""
        grouped_field_set, new_defer_usages, _ = self.collect_subfields(
            object_type, field_details_list
        )
        if position_context is None and not new_defer_usages:
            return self.execute_fields(object_type, value, path, grouped_field_set, None)
        return self.collect_and_execute_subfields(
            object_type, field_details_list, path, value, position_context
        )

    def _complete_plain_object(
        self,
        plain: PlainObject,
        field_details_list: FieldDetailsList,
        path: Path,
        value: Any,
        position_context: Any,
    ) -> AwaitableOrValue[Any]:
        """What ``execute_field`` + ``complete_value`` + ``complete_object_value`` do for a
        value already known to be of the object type, with the same error handling."""
        try:
            completed = self._execute_subfields(
                plain.object_type, field_details_list, path, value, position_context
            )
        except Exception as raw_error:  # noqa: BLE001 - as execute_field: located, per type
            self.handle_field_error(raw_error, plain.return_type, field_details_list, path)
            return None
        if not self.is_awaitable(completed):
            return completed

        async def await_completed() -> Any:
            try:
                return await completed
            except Exception as raw_error:  # noqa: BLE001 - as execute_field
                self.handle_field_error(raw_error, plain.return_type, field_details_list, path)
                return None

        return await_completed()


_FULL_PATH: Any = object()


def _read_plain_object(
    plain: PlainObject, source: Any, key: Hashable | None, is_awaitable: Callable[[Any], bool]
) -> Any:
    """The field's object, None for a null it may be, or ``_FULL_PATH`` (not prefetched, an
    exception, a null for a non-null field, an awaitable, the wrong type: ``execute_field``
    then runs the resolver and reports it the usual way)."""
    if plain.attribute is None:
        value = attached(source, key)
        if value is MISSING:
            return _FULL_PATH
    else:
        try:
            value = getattr(source, plain.attribute)
        except Exception:  # noqa: BLE001 - execute_field reports it
            return _FULL_PATH
    if value is None:
        return None if plain.nullable else _FULL_PATH
    if is_awaitable(value):
        return _FULL_PATH
    is_type_of = plain.object_type.is_type_of
    # This schema's is_type_of (ours, and Strawberry's generated ones) ignore the info.
    if is_type_of is not None and is_type_of(value, None) is not True:  # type: ignore[arg-type]
        return _FULL_PATH
    return value


_NEVER_AWAITABLE = frozenset({str, int, float, bool})


def _read_plain_leaf(leaf: PlainLeaf, source: Any, is_awaitable: Callable[[Any], bool]) -> Any:
    """The leaf's value as ``execute_field`` would complete it, or ``_FULL_PATH`` when
    anything is unusual (``execute_field`` then reports it the usual way)."""
    try:
        value = getattr(source, leaf.attribute)
        if value is None:
            return None if leaf.nullable else _FULL_PATH
        if value.__class__ not in _NEVER_AWAITABLE and is_awaitable(value):
            return _FULL_PATH
        coerced = leaf.type_.coerce_output_value(value)
    except Exception:  # noqa: BLE001 - execute_field reports it
        return _FULL_PATH
    return _FULL_PATH if coerced is None or coerced is Undefined else coerced


_PLAN_IS_AWAITABLE = awaitable_check(optimized_is_awaitable)


class CompiledExecutionContext(ModelAwareExecutionContext):
    """``ModelAwareExecutionContext`` that completes what an asynchronous resolver returned
    (a root field's page, a mutation's payload) with a compiled plan
    (``schema/compiled_plan.py``), cached per document (``schema/plan_cache.py``). The
    resolver runs as always; only the completion below it is planned, and whatever the plan
    cannot answer is completed from the same value by graphql-core's path."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        plans = (
            plan_cache(self.schema).plans_for(
                self.operation, self.fragment_definitions, eager=PLAN_CHECKS.enabled
            )
            if self.plain_leaves
            else None
        )
        self._plans = plans
        self._variant = plans.variant(self.variable_values.coerced) if plans else None

    def _completer(
        self, return_type: GraphQLOutputType, field_details_list: FieldDetailsList
    ) -> Completer | None:
        plans = self._plans
        assert plans is not None
        nodes = [details.node for details in field_details_list]
        # the type too: fields selected on an interface run under each object type, whose
        # definitions of the field may return different (covariant) types
        key = (self._variant, slot(nodes), return_type)
        completers = plans.completers
        if key in completers:
            return completers[key]
        try:
            completer: Completer | None = PlanCompiler(
                self.collect_subfields, _PLAN_IS_AWAITABLE
            ).compile(return_type, field_details_list)
        except NotCompilable:
            completer = None
        except Exception as error:  # noqa: BLE001 - no plan: graphql-core's path completes it
            if PLAN_CHECKS.enabled:
                PLAN_CHECKS.mismatches.append(f"compiling a plan failed: {error!r}")
            completer = None
        plans.keep(key, completer)
        return completer

    async def complete_awaitable_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """graphql-core 3.3's ``complete_awaitable_value`` (same error handling), where the
        resolved value goes through the field's compiled plan first; ``BAIL`` (the plan could
        not answer exactly) completes it graphql-core's way."""
        completer = (
            self._completer(return_type, field_details_list)
            if self._plans is not None and position_context is None
            else None
        )
        try:
            resolved = await self.with_abort_signal(result)
            if completer is not None:
                completed = completer(resolved)
                if completed is not BAIL:
                    if PLAN_CHECKS.enabled:
                        await self._check_plan(
                            completed, return_type, field_details_list, info, path, resolved
                        )
                    return completed
            completed = self.complete_value(
                return_type, field_details_list, info, path, resolved, position_context
            )
            if self.is_awaitable(completed):
                completed = await completed
        except Exception as raw_error:  # noqa: BLE001 - as graphql-core
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            completed = None
        return completed

    async def _check_plan(
        self,
        planned: Any,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        resolved: Any,
    ) -> None:
        """``schema/plan_checks.py``: the same value completed graphql-core's way must give
        the same data and no error."""
        errors = self.collected_errors.errors
        known = len(errors)
        try:
            reference = self.complete_value(
                return_type, field_details_list, info, path, resolved, None
            )
            if self.is_awaitable(reference):
                reference = await reference
        except Exception as error:  # noqa: BLE001 - recorded as a mismatch
            reference = error
        PLAN_CHECKS.completed += 1
        if reference != planned or len(errors) != known:
            PLAN_CHECKS.mismatches.append(
                f"{path.as_list()}: plan {planned!r} != graphql-core {reference!r}"
                f" (errors {[str(error) for error in errors[known:]]})"
            )
            del errors[known:]
