"""The HTTP request's span (OpenTelemetry's ASGI middleware, outermost, only with tracing
on): it continues a W3C ``traceparent``/``tracestate`` the client sent, names the span by
method and route template (``POST /graphql``), and answers a ``traceresponse`` header."""

from __future__ import annotations

from typing import Any

from starlette.middleware import Middleware
from starlette.routing import BaseRoute
from starlette.types import Scope

from core import tracing
from server.middleware.access_log import route_template

# Probes and scrapes would be most of the traces and say nothing.
UNTRACED_PATHS = "/health/live,/health/ready,/metrics"


def tracing_middleware(routes: list[BaseRoute]) -> Middleware:
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    def span_details(scope: Scope) -> tuple[str, dict[str, Any]]:
        template = route_template(routes, scope)
        method = scope.get("method")  # none on a websocket
        return (f"{method} {template}" if method else template), {"http.route": template}

    return Middleware(
        OpenTelemetryMiddleware,
        excluded_urls=UNTRACED_PATHS,
        default_span_details=span_details,
        tracer_provider=tracing.provider(),
        # Without this, every ASGI message (each chunk of a stream) gets a span of its own.
        exclude_spans=["receive", "send"],
    )
