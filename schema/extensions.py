"""Our one schema extension, ``RequestPipeline``: every per-operation step, in the order a
request meets them (see docs/ARCHITECTURE.md): operation metrics → document limits (and the
introspection rule when it is off) → validation (``schema.validation``) → input rules
(``schema.input_rules``) → incremental delivery (``schema.incremental``) → cost analysis
against the client's bucket → the response's cache policy.

One extension rather than one per step: Strawberry builds, for every request, an instance of
each extension and, for each hook, a context manager over every extension implementing it
(``contextlib.contextmanager`` around a bound method, an exit stack). The steps were seven
extensions and nine hook context managers per request; they are one and four."""

from __future__ import annotations

import inspect
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    ExecutionResult,
    ExperimentalIncrementalExecutionResults,
    FragmentDefinitionNode,
    GraphQLError,
    get_operation_ast,
    parse,
)
from graphql.language.parser import MAX_NESTING_DEPTH
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext
from strawberry.types.execution import PreExecutionError

from core import tracing
from core.metrics import (
    COST_REFUSALS,
    GRAPHQL_DURATION,
    GRAPHQL_OPERATIONS,
    GRAPHQL_QUERY_COST,
    child,
    operation_label,
)
from core.request_context import operation_name_var
from schema.cache_control import document_policy, response_policy
from schema.cost import MINIMUM_OPERATION_COST, CostAnalysis
from schema.incremental import check_incremental_delivery
from schema.input_rules import check_inputs
from schema.limits import DocumentLimitSettings, check_document, with_limit_rules
from schema.tracing import COST_ATTRIBUTE
from schema.validation import validate_capped
from services.errors import QueryTooComplex, RateLimited
from services.rate_limit import BucketPolicy, BucketState

if TYPE_CHECKING:
    from vocabulary.context import Context


CACHEABLE_QUERY_LENGTH = 16_384


def _parse(query: str, max_tokens: int) -> DocumentNode:
    return parse(query, max_lexical_tokens=max_tokens, max_comments=max_tokens)


_cached_parse = lru_cache(maxsize=512)(_parse)


def parse_document(query: str, max_tokens: int) -> DocumentNode:
    """Parse once per distinct query text (long texts are not kept, to bound memory);
    the parser itself stops at ``max_tokens``."""
    if len(query) > CACHEABLE_QUERY_LENGTH:
        return _parse(query, max_tokens)
    return _cached_parse(query, max_tokens)


def observe_operation(ctx: ExecutionContext, started: float, *, refused: bool) -> None:
    """Counts and times the operation; names it for the access log."""
    operation_name_var.set(ctx.operation_name)
    try:
        operation_type = ctx.operation_type.value
    except Exception:  # noqa: BLE001 - unparsable documents have no type
        operation_type = "unknown"
    result = ctx.result
    if isinstance(result, ExperimentalIncrementalExecutionResults):
        # @defer/@stream: the outcome of the initial payload (the rest is streamed after the
        # operation's extensions have finished).
        result = result.initial_result
    if (
        refused
        or isinstance(result, PreExecutionError)
        or (result is None and ctx.pre_execution_errors)
    ):
        outcome = "rejected"
    elif ctx.pre_execution_errors or (result is not None and result.errors):
        outcome = "error"
    else:
        outcome = "success"
    labels = (operation_label(ctx.operation_name), operation_type, outcome)
    child(GRAPHQL_OPERATIONS, *labels).inc()
    child(GRAPHQL_DURATION, *labels).observe(time.perf_counter() - started)


def parse_within_limits(ctx: ExecutionContext, limits: DocumentLimitSettings) -> None:
    """Parses with the token limit in the parser (through the parse cache) before Strawberry
    would, turning the parser's limit errors into ours."""
    if ctx.graphql_document is not None or not ctx.query:
        return
    try:
        ctx.graphql_document = parse_document(ctx.query, limits.max_tokens)
    except GraphQLError as error:
        if "Document contains more than" in error.message:
            raise QueryTooComplex(
                f"Document has more than the maximum of {limits.max_tokens} tokens"
            ) from error
        if "nested too deeply" in error.message:
            raise QueryTooComplex(
                f"Document nests selection sets or values more than {MAX_NESTING_DEPTH} levels deep"
            ) from error
        # Other syntax errors: Strawberry parses again and reports them as usual.


def leave_cache_policy(ctx: ExecutionContext) -> None:
    """Leaves the cache policy of the executed operation's response on the context
    (``schema.cache_control``: worked out once per document, no per-field work); the HTTP
    view turns it into headers. An operation refused before execution leaves None: not
    cacheable."""
    context = ctx.context
    document = ctx.graphql_document
    if document is None or not hasattr(context, "cache_policy"):
        return
    result = ctx.result
    context.cache_policy = response_policy(
        document_policy(ctx.schema._schema, document, ctx.operation_name),
        has_errors=not isinstance(result, ExecutionResult) or bool(result.errors),
        authenticated=context.user is not None,
        max_age_limit=context.settings.http_cache_max_age_seconds,
    )


@dataclass(frozen=True, slots=True)
class PipelineSettings:
    limits: DocumentLimitSettings
    introspection: bool
    max_cost: int
    policy: BucketPolicy

    def validation_rules(
        self, rules: tuple[type[ASTValidationRule], ...]
    ) -> tuple[type[ASTValidationRule], ...]:
        """Strawberry's rules with our introspection-depth rule, and without introspection
        when it is off (what Strawberry's ``DisableIntrospection`` adds)."""
        return _validation_rules(rules, self.introspection)


# Strawberry hands every operation an equal tuple of rules (a new one each time): the
# answer kept per tuple, a hash of ~30 classes instead of a generator over them.
@lru_cache(maxsize=16)
def _validation_rules(
    rules: tuple[type[ASTValidationRule], ...], introspection: bool
) -> tuple[type[ASTValidationRule], ...]:
    rules = with_limit_rules(rules)
    return rules if introspection else (*rules, NoSchemaIntrospectionCustomRule)


class RequestPipeline(SchemaExtension):
    """Every per-operation step of ours (module docstring). The cost step prices the
    operation before execution, takes the price from the client's bucket, refunds the
    over-estimate after, and reports it all in ``extensions.cost``."""

    def __init__(self, settings: PipelineSettings) -> None:
        self.settings = settings
        self.requested = 0
        self.actual = 0
        self.state: BucketState | None = None

    @classmethod
    def factory(cls, settings: PipelineSettings) -> Any:
        return lambda: cls(settings)

    @property
    def context(self) -> Context:
        return self.execution_context.context  # type: ignore[no-any-return]

    def on_operation(self) -> Iterator[None]:
        ctx = self.execution_context
        started = time.perf_counter()
        refused = False
        try:
            ctx.validation_rules = self.settings.validation_rules(ctx.validation_rules)
            yield
        except Exception:
            refused = True
            raise
        finally:
            observe_operation(ctx, started, refused=refused)

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        parse_within_limits(ctx, self.settings.limits)
        yield
        if ctx.graphql_document is not None:
            reason = check_document(ctx.graphql_document, self.settings.limits)
            if reason is not None:
                raise QueryTooComplex(reason)

    def on_validate(self) -> Iterator[None]:
        validate_capped(self.execution_context)
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        ctx = self.execution_context
        check_inputs(ctx)
        check_incremental_delivery(ctx)
        analysis = self._analysis()
        key = f"cost:{self.context.client_key}"
        await self._charge(analysis, key)
        yield
        leave_cache_policy(ctx)
        await self._refund(analysis, key)

    def _analysis(self) -> CostAnalysis:
        ctx = self.execution_context
        document = ctx.graphql_document
        assert document is not None
        operation = get_operation_ast(document, ctx.operation_name)
        assert operation is not None, "validation guarantees the operation exists"
        fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        return CostAnalysis(ctx.schema._schema, operation, fragments, ctx.variables or {})

    async def _charge(self, analysis: CostAnalysis, key: str) -> None:
        max_cost = self.settings.max_cost
        # Every operation costs something, so lookups that find nothing are not free.
        self.requested = max(analysis.requested(), MINIMUM_OPERATION_COST)
        tracing.set_attribute(COST_ATTRIBUTE, self.requested)
        child(GRAPHQL_QUERY_COST, self.execution_context.operation_type.value).observe(
            self.requested
        )
        if self.requested > max_cost:
            child(COST_REFUSALS, "too_complex").inc()
            raise QueryTooComplex(
                f"Query cost {self.requested} is over the maximum of {max_cost}",
                requestedQueryCost=self.requested,
                maximumQueryCost=max_cost,
            )
        batch = self.context.batch_cost
        if batch is not None and batch.charged + self.requested > max_cost:
            child(COST_REFUSALS, "batch").inc()
            raise QueryTooComplex(
                f"Query cost {self.requested} would bring the batch to "
                f"{batch.charged + self.requested}, over the maximum of {max_cost} "
                "per request",
                requestedQueryCost=self.requested,
                batchQueryCost=batch.charged,
                maximumQueryCost=max_cost,
            )
        self.state = await self.context.container.buckets.take(
            key, self.requested, self.settings.policy
        )
        if not self.state.allowed:
            child(COST_REFUSALS, "budget").inc()
            raise RateLimited(
                self.state.retry_after,
                f"Query cost {self.requested} is more than the {int(self.state.available)} "
                "points left in your budget",
            )
        if batch is not None:
            batch.charged += self.requested

    async def _refund(self, analysis: CostAnalysis, key: str) -> None:
        result = self.execution_context.result
        if isinstance(result, ExecutionResult):
            self.actual = max(analysis.actual(result.data), MINIMUM_OPERATION_COST)
        else:  # subscriptions and streams are charged what was requested
            self.actual = self.requested
        if self.actual < self.requested:
            self.state = await self.context.container.buckets.give_back(
                key, self.requested - self.actual, self.settings.policy
            )

    async def get_results(self) -> dict[str, Any]:
        state = self.state
        policy = self.settings.policy
        if state is None:
            state = await self.context.container.buckets.peek(
                f"cost:{self.context.client_key}", policy
            )
        return {
            "cost": {
                "requestedQueryCost": self.requested,
                "actualQueryCost": self.actual,
                "throttleStatus": {
                    "maximumAvailable": policy.capacity,
                    "currentlyAvailable": int(state.available),
                    "restoreRate": policy.restore_rate,
                },
            }
        }


# What a hook of an extension class is, per hook name: a generator function (True: async),
# or None when it is not one (Strawberry's own context managers then run the hooks).
_HookKinds = dict[str, bool | None]
_hook_kinds: dict[type[SchemaExtension], _HookKinds] = {}
HOOK_NAMES = ("on_operation", "on_parse", "on_validate", "on_execute")


def hook_kinds(extension_class: type[SchemaExtension]) -> _HookKinds:
    kinds = _hook_kinds.get(extension_class)
    if kinds is None:
        kinds = {}
        for name in HOOK_NAMES:
            hook = getattr(extension_class, name)
            if hook is getattr(SchemaExtension, name):
                continue  # not implemented: no context manager needed
            if inspect.isasyncgenfunction(hook):
                kinds[name] = True
            elif inspect.isgeneratorfunction(hook):
                kinds[name] = False
            else:
                kinds[name] = None
        _hook_kinds[extension_class] = kinds
    return kinds


class OneHook:
    """One extension's generator hook as a context manager: what Strawberry's hook context
    manager does for a single hook (``contextlib.contextmanager`` or ``asynccontextmanager``
    around the bound method, in an exit stack), driven directly, with ``contextlib``'s
    semantics for an exception thrown in (the hook sees it and may raise another). As in
    Strawberry's, the exception goes on even when the hook returns after it: Strawberry's
    ``__exit__``/``__aexit__`` drop the exit stack's answer."""

    __slots__ = ("_generator", "_hook", "_is_async")

    def __init__(self, hook: Any, is_async: bool) -> None:
        self._hook = hook
        self._is_async = is_async
        self._generator: Any = None

    async def __aenter__(self) -> None:
        self._generator = self._hook()
        try:
            if self._is_async:
                await self._generator.__anext__()
            else:
                next(self._generator)
        except (StopIteration, StopAsyncIteration):
            raise RuntimeError("generator didn't yield") from None

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if self._is_async:
            await _leave_async(self._generator, exc)
        else:
            _leave(self._generator, exc)

    def __enter__(self) -> None:
        if self._is_async:
            raise RuntimeError("SchemaExtension hook failed to complete synchronously.")
        self._generator = self._hook()
        try:
            next(self._generator)
        except StopIteration:
            raise RuntimeError("generator didn't yield") from None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        _leave(self._generator, exc)


def _leave(generator: Any, exc: BaseException | None) -> None:
    """``contextlib._GeneratorContextManager.__exit__``, its answer (swallow or not) dropped."""
    if exc is None:
        try:
            next(generator)
        except StopIteration:
            return
        raise RuntimeError("generator didn't stop")
    tb = exc.__traceback__
    try:
        generator.throw(exc)
    except StopIteration:
        return
    except BaseException as raised:
        if not _is_the_thrown(raised, exc):
            raise
        exc.__traceback__ = tb
        return
    raise RuntimeError("generator didn't stop after throw()")


async def _leave_async(generator: Any, exc: BaseException | None) -> None:
    """``contextlib._AsyncGeneratorContextManager.__aexit__``, its answer dropped."""
    if exc is None:
        try:
            await generator.__anext__()
        except StopAsyncIteration:
            return
        raise RuntimeError("generator didn't stop")
    tb = exc.__traceback__
    try:
        await generator.athrow(exc)
    except StopAsyncIteration:
        return
    except BaseException as raised:
        if not _is_the_thrown(raised, exc):
            raise
        exc.__traceback__ = tb
        return
    raise RuntimeError("generator didn't stop after throw()")


def _is_the_thrown(raised: BaseException, exc: BaseException) -> bool:
    """The hook let the stage's own exception go on (also as the RuntimeError a generator
    makes of a StopIteration): the ``with`` raises it again, with its traceback as it was.
    Anything else the hook raised goes on instead."""
    stop = (StopIteration, StopAsyncIteration)
    return raised is exc or (
        isinstance(raised, RuntimeError) and isinstance(exc, stop) and raised.__cause__ is exc
    )


class DirectHooksRunner(SchemaExtensionsRunner):
    """Strawberry's runner, with a stage whose only hook is a generator (every stage of
    ``RequestPipeline`` when it is the one extension, so without tracing) entered directly
    (``OneHook``) instead of through a context manager built for it on every request: the
    hook's kind found by ``inspect`` once per class, not once per request and stage.
    Anything else (two extensions with a hook in one stage, a hook that is no generator)
    takes Strawberry's context managers. ``LIBRARY_SHORTCUTS=false``: not used."""

    def _stage(self, name: str) -> OneHook | None:
        found: OneHook | None = None
        for extension in self.extensions:
            kinds = hook_kinds(type(extension))
            if name not in kinds:
                continue
            is_async = kinds[name]
            if found is not None or is_async is None:
                return None
            found = OneHook(getattr(extension, name), is_async)
        return found

    def operation(self) -> Any:
        return self._stage("on_operation") or super().operation()

    def parsing(self) -> Any:
        return self._stage("on_parse") or super().parsing()

    def validation(self) -> Any:
        return self._stage("on_validate") or super().validation()

    def executing(self) -> Any:
        return self._stage("on_execute") or super().executing()
