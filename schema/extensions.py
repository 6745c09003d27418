"""Schema extensions, in the order a request meets them (see docs/ARCHITECTURE.md):
operation metrics → document limits → (validation, ``schema.validation``) → (input rules,
``schema.input_rules``) → cost analysis against the client's bucket → the response's cache
policy."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    ExperimentalIncrementalExecutionResults,
    FragmentDefinitionNode,
    GraphQLError,
    get_operation_ast,
    parse,
)
from graphql.language.parser import MAX_NESTING_DEPTH
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import PreExecutionError

from core import tracing
from core.metrics import (
    COST_REFUSALS,
    GRAPHQL_DURATION,
    GRAPHQL_OPERATIONS,
    GRAPHQL_QUERY_COST,
    operation_label,
)
from core.request_context import operation_name_var
from schema.cache_control import document_policy, response_policy
from schema.cost import MINIMUM_OPERATION_COST, CostAnalysis
from schema.limits import DocumentLimitSettings, check_document, with_limit_rules
from schema.tracing import COST_ATTRIBUTE
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


class OperationObserver(SchemaExtension):
    """Counts and times each operation; names it for the access log."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        refused = False
        try:
            yield
        except Exception:
            refused = True
            raise
        finally:
            ctx = self.execution_context
            operation_name_var.set(ctx.operation_name)
            try:
                operation_type = ctx.operation_type.value
            except Exception:  # noqa: BLE001 - unparsable documents have no type
                operation_type = "unknown"
            result = ctx.result
            if isinstance(result, ExperimentalIncrementalExecutionResults):
                # @defer/@stream: the outcome of the initial payload (the rest is streamed
                # after the operation's extensions have finished).
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
            GRAPHQL_OPERATIONS.labels(*labels).inc()
            GRAPHQL_DURATION.labels(*labels).observe(time.perf_counter() - started)


class DocumentLimits(SchemaExtension):
    """Tokens (in the parser), then operations, directives, aliases, nesting, fields (with
    fragments expanded) and depth, measured on the parsed document before anything else
    walks it: validation rules and resolvers expand fragments at every spread."""

    def __init__(self, limits: DocumentLimitSettings) -> None:
        self.limits = limits

    def on_operation(self) -> Iterator[None]:
        ctx = self.execution_context
        ctx.validation_rules = with_limit_rules(ctx.validation_rules)
        yield

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.graphql_document is None and ctx.query:
            try:
                ctx.graphql_document = parse_document(ctx.query, self.limits.max_tokens)
            except GraphQLError as error:
                if "Document contains more than" in error.message:
                    raise QueryTooComplex(
                        f"Document has more than the maximum of {self.limits.max_tokens} tokens"
                    ) from error
                if "nested too deeply" in error.message:
                    raise QueryTooComplex(
                        f"Document nests selection sets or values more than {MAX_NESTING_DEPTH} "
                        "levels deep"
                    ) from error
                # Other syntax errors: Strawberry parses again and reports them as usual.
        yield
        if ctx.graphql_document is not None:
            reason = check_document(ctx.graphql_document, self.limits)
            if reason is not None:
                raise QueryTooComplex(reason)

    @classmethod
    def factory(cls, limits: DocumentLimitSettings) -> Any:
        return lambda: cls(limits)


class CostLimiter(SchemaExtension):
    """Prices the operation before execution, takes the price from the client's bucket,
    refunds the over-estimate after, and reports it all in ``extensions.cost``."""

    def __init__(self, max_cost: int, policy: BucketPolicy) -> None:
        self.max_cost = max_cost
        self.policy = policy
        self.requested = 0
        self.actual = 0
        self.state: BucketState | None = None

    @property
    def context(self) -> Context:
        return self.execution_context.context  # type: ignore[no-any-return]

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

    async def on_execute(self) -> AsyncIterator[None]:
        analysis = self._analysis()
        # Every operation costs something, so lookups that find nothing are not free.
        self.requested = max(analysis.requested(), MINIMUM_OPERATION_COST)
        tracing.set_attribute(COST_ATTRIBUTE, self.requested)
        GRAPHQL_QUERY_COST.labels(self.execution_context.operation_type.value).observe(
            self.requested
        )
        if self.requested > self.max_cost:
            COST_REFUSALS.labels("too_complex").inc()
            raise QueryTooComplex(
                f"Query cost {self.requested} is over the maximum of {self.max_cost}",
                requestedQueryCost=self.requested,
                maximumQueryCost=self.max_cost,
            )
        batch = self.context.batch_cost
        if batch is not None and batch.charged + self.requested > self.max_cost:
            COST_REFUSALS.labels("batch").inc()
            raise QueryTooComplex(
                f"Query cost {self.requested} would bring the batch to "
                f"{batch.charged + self.requested}, over the maximum of {self.max_cost} "
                "per request",
                requestedQueryCost=self.requested,
                batchQueryCost=batch.charged,
                maximumQueryCost=self.max_cost,
            )
        buckets = self.context.container.buckets
        key = f"cost:{self.context.client_key}"
        self.state = await buckets.take(key, self.requested, self.policy)
        if not self.state.allowed:
            COST_REFUSALS.labels("budget").inc()
            raise RateLimited(
                self.state.retry_after,
                f"Query cost {self.requested} is more than the {int(self.state.available)} "
                "points left in your budget",
            )
        if batch is not None:
            batch.charged += self.requested
        yield
        result = self.execution_context.result
        if isinstance(result, ExecutionResult):
            self.actual = max(analysis.actual(result.data), MINIMUM_OPERATION_COST)
        else:  # subscriptions and streams are charged what was requested
            self.actual = self.requested
        if self.actual < self.requested:
            self.state = await buckets.give_back(key, self.requested - self.actual, self.policy)

    async def get_results(self) -> dict[str, Any]:
        state = self.state
        if state is None:
            state = await self.context.container.buckets.peek(
                f"cost:{self.context.client_key}", self.policy
            )
        return {
            "cost": {
                "requestedQueryCost": self.requested,
                "actualQueryCost": self.actual,
                "throttleStatus": {
                    "maximumAvailable": self.policy.capacity,
                    "currentlyAvailable": int(state.available),
                    "restoreRate": self.policy.restore_rate,
                },
            }
        }

    @classmethod
    def factory(cls, max_cost: int, policy: BucketPolicy) -> Any:
        return lambda: cls(max_cost, policy)


class CachePolicyObserver(SchemaExtension):
    """Leaves the cache policy of the executed operation's response on the context
    (``schema.cache_control``: worked out once per document, no per-field work); the HTTP view
    turns it into headers. An operation refused before execution leaves None: not cacheable."""

    def on_execute(self) -> Iterator[None]:
        yield
        ctx = self.execution_context
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
