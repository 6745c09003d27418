"""The GraphQL operation's span (only in the schema when tracing is on): a child of the
HTTP request's, named ``{type} {name}`` as OpenTelemetry's GraphQL conventions say, with the
operation's name, type, the SHA-256 of its document and (set by ``RequestPipeline``'s
charge) its cost. The batched loads of each level and the SQL below them are its children."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from opentelemetry.trace import Status, StatusCode
from strawberry.extensions import SchemaExtension

from core import tracing

OPERATION_SPAN = "graphql.operation"
COST_ATTRIBUTE = "graphql.operation.cost"


class OperationTracing(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        with tracing.span(OPERATION_SPAN) as span:
            yield
            if span is None or not span.is_recording():
                return
            ctx = self.execution_context
            try:
                operation_type = ctx.operation_type.value
            except Exception:  # noqa: BLE001 - an unparsable document has no type
                operation_type = "unknown"
            name = ctx.operation_name
            span.update_name(f"{operation_type} {name}" if name else operation_type)
            span.set_attribute("graphql.operation.type", operation_type)
            if name:
                span.set_attribute("graphql.operation.name", name)
            if ctx.query:
                digest = hashlib.sha256(ctx.query.encode()).hexdigest()
                span.set_attribute("graphql.document.hash", digest)
            result = ctx.result
            errors = ctx.pre_execution_errors or getattr(result, "errors", None)
            if errors:
                span.set_status(Status(StatusCode.ERROR, errors[0].message))
