"""OpenTelemetry tracing, off unless the ``OTEL_*`` settings name an exporter.

Off, nothing is patched and no span object is made: every helper here first reads the
module's ``enabled`` flag (one attribute lookup) and returns at once. On, one
``TracerProvider`` per process (the first configuration wins, as for OpenTelemetry's global
provider, which can be set once), the asyncpg and Redis instrumentations installed on it,
and the W3C trace context (``traceparent``/``tracestate``) read and written by the global
propagator (``OTEL_PROPAGATORS``, by default tracecontext and baggage).

What is carried across a queue (a job, a pub/sub message) is a small ``carrier`` dict of
those headers; the consumer opens its span under it (``continued_span``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import propagate, trace
from opentelemetry.trace import Link, SpanKind

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.sdk.trace.sampling import Sampler

    from core.settings import Settings

logger = logging.getLogger("agora.tracing")

TRACER_NAME = "agora"

enabled = False
"""Whether spans are made; read directly on hot paths (``if tracing.enabled:``)."""

_provider: TracerProvider | None = None
_tracer: trace.Tracer = trace.NoOpTracer()


def configure_tracing(settings: Settings) -> None:
    """Turn tracing on or off for this process as ``settings`` say; the first provider
    built stays (a second app in one process, as in tests, reuses it)."""
    global enabled
    if not settings.tracing_enabled:
        enabled = False
        return
    if _provider is None:
        install(build_tracer_provider(settings))
    enabled = True


def build_tracer_provider(
    settings: Settings, exporter: SpanExporter | None = None
) -> TracerProvider:
    """The provider the settings describe: their sampler, ``service.name`` and exporter,
    spans sent in batches off the event loop (the SDK's exporter thread)."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(
        sampler=sampler_of(settings.otel_traces_sampler, settings.otel_traces_sampler_arg),
        resource=Resource.create({"service.name": settings.otel_service_name}),
    )
    provider.add_span_processor(BatchSpanProcessor(exporter or exporter_of(settings)))
    return provider


def exporter_of(settings: Settings) -> SpanExporter:
    if settings.otel_traces_exporter == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter(service_name=settings.otel_service_name)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    # The base endpoint gets the signal's path, as the OTLP specification says for
    # OTEL_EXPORTER_OTLP_ENDPOINT (the exporter only appends it when it reads the
    # variable itself). Headers, timeout and compression: the exporter reads
    # OTEL_EXPORTER_OTLP_HEADERS / _TIMEOUT / _COMPRESSION from the environment.
    return OTLPSpanExporter(endpoint=otlp_traces_url(settings.otel_exporter_otlp_endpoint))


def otlp_traces_url(endpoint: str) -> str:
    return endpoint.rstrip("/") + "/v1/traces"


def sampler_of(name: str, argument: float) -> Sampler:
    """The sampler ``OTEL_TRACES_SAMPLER`` names (the specification's values)."""
    from opentelemetry.sdk.trace import sampling

    root: Sampler
    base = name.removeprefix("parentbased_")
    if base == "always_on":
        root = sampling.ALWAYS_ON
    elif base == "always_off":
        root = sampling.ALWAYS_OFF
    elif base == "traceidratio":
        root = sampling.TraceIdRatioBased(argument)
    else:
        raise ValueError(f"unknown sampler {name!r}")
    return sampling.ParentBased(root) if name.startswith("parentbased_") else root


def install(provider: TracerProvider) -> None:
    """Make ``provider`` the process's: ours, the instrumented libraries' and (the first
    time: OpenTelemetry refuses to replace it) the global one. Tests install one with an
    in-memory exporter and ``uninstall`` it after."""
    global _provider, _tracer
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.propagators import (
        TraceResponsePropagator,
        set_global_response_propagator,
    )
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    uninstall()
    if not _global_provider_set():
        trace.set_tracer_provider(provider)
    _provider = provider
    _tracer = provider.get_tracer(TRACER_NAME)
    AsyncPGInstrumentor().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]
    RedisInstrumentor().instrument(tracer_provider=provider)
    # The response says which trace answered it (`traceresponse`, W3C Trace Context level 2).
    set_global_response_propagator(TraceResponsePropagator())  # type: ignore[no-untyped-call]


def uninstall() -> None:
    """Tracing off and the libraries' instrumentation removed."""
    global _provider, _tracer, enabled
    enabled = False
    if _provider is None:
        return
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.propagators import set_global_response_propagator
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    AsyncPGInstrumentor().uninstrument()  # type: ignore[no-untyped-call]
    RedisInstrumentor().uninstrument()
    set_global_response_propagator(None)  # type: ignore[no-untyped-call]
    _provider = None
    _tracer = trace.NoOpTracer()


def _global_provider_set() -> bool:
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def provider() -> TracerProvider | None:
    """The installed provider (the ASGI middleware is given it), None when never on."""
    return _provider


def flush() -> None:
    """Export what is buffered (at shutdown; the SDK also flushes at interpreter exit)."""
    if _provider is not None:
        _provider.force_flush()


def tracer() -> trace.Tracer:
    return _tracer


@contextmanager
def span(
    name: str,
    attributes: Mapping[str, Any] | None = None,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
) -> Iterator[trace.Span | None]:
    """A child of the current span while tracing is on; nothing at all when it is off, nor
    inside a trace that is not sampled (every sampler we offer decides alike for a whole
    trace: by its id, or by its parent), where the span would be made only to be dropped."""
    if not enabled:
        yield None
        return
    parent = trace.get_current_span()
    if not parent.is_recording() and parent.get_span_context().is_valid:
        yield None
        return
    with _tracer.start_as_current_span(name, kind=kind, attributes=attributes) as current:
        yield current


def set_attribute(name: str, value: Any) -> None:
    """On the current span (the GraphQL operation's, the HTTP request's), if tracing is on."""
    if enabled:
        trace.get_current_span().set_attribute(name, value)


def current_trace_id() -> str | None:
    """The current trace's id as 32 hex digits, None off or outside a trace."""
    if not enabled:
        return None
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def current_ids() -> tuple[str, str] | None:
    """The current trace id and span id (hex), for log lines."""
    if not enabled:
        return None
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def carrier() -> dict[str, str]:
    """The current trace context as W3C headers (empty off or outside a trace), for a job's
    or a message's metadata."""
    if not enabled:
        return {}
    headers: dict[str, str] = {}
    propagate.inject(headers)
    return headers


@contextmanager
def continued_span(
    name: str,
    headers: Mapping[str, str] | None,
    *,
    kind: SpanKind,
    parent: bool,
    attributes: Mapping[str, Any] | None = None,
) -> Iterator[trace.Span | None]:
    """A span for work queued elsewhere, linked to the span that queued it (``headers``
    from ``carrier``); with ``parent`` also its child, in the same trace (a job), else the
    root of a new trace (one event delivered to many subscribers)."""
    if not enabled:
        yield None
        return
    context = propagate.extract(headers) if headers else None
    origin = trace.get_current_span(context).get_span_context() if context else None
    links = [Link(origin)] if origin is not None and origin.is_valid else None
    with _tracer.start_as_current_span(
        name,
        context=context if parent else trace.set_span_in_context(trace.INVALID_SPAN),
        kind=kind,
        links=links,
        attributes=attributes,
    ) as current:
        yield current
