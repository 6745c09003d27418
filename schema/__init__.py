"""The Strawberry schema: types, extensions and configuration in one place."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import ExperimentalIncrementalExecutionResults, GraphQLError
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.scalars import JSON
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from core.settings import Settings
from resolvers.prefetch import index_relations, read_prefetched_first
from schema.errors import ErrorCodeEnum, log_unexpected_errors
from schema.execution import CompiledExecutionContext, StockExecutionContext
from schema.extensions import DirectHooksRunner, PipelineSettings, RequestPipeline
from schema.limits import DocumentLimitSettings
from schema.roots import MUTATION_TYPES, QUERY_TYPES, SUBSCRIPTION_TYPES
from schema.tracing import OperationTracing
from schema.types.user import User
from services.rate_limit import BucketPolicy, OutagePolicy
from vocabulary.scalars import SCALAR_MAP

# Strawberry's own batch cap is set out of reach; the view enforces QUERY_MAX_OPERATIONS
# itself so that the refusal carries our error code.
STRAWBERRY_BATCH_CEILING = 1000


class AgoraSchema(strawberry.Schema):
    def __init__(self, *args: Any, library_shortcuts: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        index_relations(self._schema)  # what `prefetch` loads, read from the fields
        self.library_shortcuts = library_shortcuts
        if library_shortcuts:
            read_prefetched_first(self._schema)

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[Any]
    ) -> SchemaExtensionsRunner:
        if not self.library_shortcuts:
            return super().create_extensions_runner(execution_context, extensions)
        return DirectHooksRunner(execution_context=execution_context, extensions=extensions)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_unexpected_errors(
            errors, execution_context.operation_name if execution_context else None
        )

    async def _handle_execution_result(
        self,
        context: ExecutionContext,
        result: Any,
        extensions_runner: SchemaExtensionsRunner,
        *,
        skip_process_errors: bool = False,
    ) -> Any:
        """Strawberry's, and for ``@defer``/``@stream`` what Strawberry 0.341 leaves out
        there: the initial payload's errors logged and its ``extensions`` (``cost``) filled
        in by the schema extensions, as for any other result."""
        if isinstance(result, ExperimentalIncrementalExecutionResults):
            initial = result.initial_result
            if initial.errors:
                self.process_errors(initial.errors, context)
            initial.extensions = {
                **(initial.extensions or {}),
                **await extensions_runner.get_extensions_results(context),
            }
            return result
        return await super()._handle_execution_result(
            context, result, extensions_runner, skip_process_errors=skip_process_errors
        )


def document_limits(settings: Settings) -> DocumentLimitSettings:
    return DocumentLimitSettings(
        max_depth=settings.query_max_depth,
        max_fields=settings.query_max_fields,
        max_field_repeats=settings.query_max_field_repeats,
        max_aliases=settings.query_max_aliases,
        max_directives=settings.query_max_directives,
        max_directives_per_location=settings.query_max_directives_per_location,
        max_operations=settings.query_max_operations,
        max_tokens=settings.query_max_tokens,
    )


def build_schema(settings: Settings) -> AgoraSchema:
    limits = document_limits(settings)
    policy = BucketPolicy(
        settings.rate_limit_capacity,
        settings.rate_limit_restore_rate,
        OutagePolicy(settings.rate_limit_outage_fraction, settings.rate_limit_fail_closed),
    )
    pipeline = PipelineSettings(
        limits=limits,
        introspection=settings.introspection_enabled,
        max_cost=settings.query_max_cost,
        policy=policy,
    )
    extensions: list[Any] = [RequestPipeline.factory(pipeline)]
    if settings.tracing_enabled:
        extensions.insert(0, OperationTracing)  # its span covers the whole pipeline
    return AgoraSchema(
        query=merge_types("Query", tuple(QUERY_TYPES)),
        mutation=merge_types("Mutation", tuple(MUTATION_TYPES)),
        subscription=(
            merge_types("Subscription", tuple(SUBSCRIPTION_TYPES)) if SUBSCRIPTION_TYPES else None
        ),
        types=[User, ErrorCodeEnum, JSON],
        extensions=extensions,
        library_shortcuts=settings.library_shortcuts,
        execution_context_class=(
            CompiledExecutionContext if settings.library_shortcuts else StockExecutionContext
        ),
        config=StrawberryConfig(
            disable_field_suggestions=settings.is_production,
            scalar_map=SCALAR_MAP,
            batching_config={"max_operations": STRAWBERRY_BATCH_CEILING},
            # @defer and @stream (graphql-core 3.3's incremental executor); the HTTP view
            # streams them as multipart/mixed (server/incremental/).
            enable_experimental_incremental_execution=True,
        ),
    )


def export_sdl() -> str:
    """The SDL of the API; it does not depend on the settings."""
    return build_schema(Settings()).as_str() + "\n"
