"""The Starlette application factory."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from core import tracing
from core.faults import flush_repeats
from core.logging import configure_logging
from core.process_metrics import forget_this_process, observe_gc_pauses
from core.settings import Settings, get_settings
from core.shortcuts import use_library_shortcuts
from schema import build_schema
from server import files_route, health
from server.container import Container
from server.database import close_database, init_database
from server.email_pages import email_page_routes
from server.graphiql import GRAPHIQL_ASSETS_PATH
from server.graphql_view import GraphQLView
from server.middleware.body_limit import BodyLimitMiddleware
from server.middleware.compression import CompressionMiddleware
from server.middleware.edge import EdgeMiddleware
from server.middleware.tracing import tracing_middleware
from server.runtime_sampler import RuntimeSampler
from server.websocket import drain_before_exit
from server.websocket.registry import end_sessions_when_told

logger = logging.getLogger("agora")

GC_YOUNG_THRESHOLD = 20_000


def create_app(
    settings: Settings | None = None,
    *,
    manage_database: bool = True,
    container: Container | None = None,
) -> Starlette:
    """Build the ASGI app. Tests pass ``manage_database=False`` (they own Tortoise) and
    their own container."""
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format, settings.log_repeat_interval_seconds)
    use_library_shortcuts(settings.library_shortcuts)
    tracing.configure_tracing(settings)
    container = container or Container.from_settings(settings)
    view = GraphQLView(build_schema(settings), container)

    routes: list[BaseRoute] = [
        Route("/graphql", view, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", view),
        Route("/health/live", health.live, methods=["GET"]),
        Route("/health/ready", health.ready, methods=["GET"]),
        Route("/metrics", health.metrics, methods=["GET"]),
        Route("/files/{key}", files_route.download, methods=["GET", "HEAD"]),
    ]
    if settings.app_env == "development":
        routes += email_page_routes(view)
    if settings.graphiql_enabled:
        routes.append(
            Mount(
                GRAPHIQL_ASSETS_PATH,
                StaticFiles(directory=Path(__file__).parent / "static" / "graphiql"),
            )
        )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if manage_database:
            await init_database(settings)
        await container.start()
        ending_sessions = asyncio.create_task(
            end_sessions_when_told(container.pubsub, view.websockets)
        )
        # SIGTERM/SIGINT: flush and close the websockets (1001) before uvicorn stops.
        stop_draining_on_signals = drain_before_exit(view.shutdown_websockets)
        # What start-up built (modules, schema, models) lives as long as the process: keep
        # it out of the garbage collector's full passes, which otherwise scan it every time
        # (and stall every request and subscription event meanwhile).
        gc.collect()
        gc.freeze()
        # A request frees its objects by reference counting (tests/integration/
        # test_request_garbage.py), so the collector only ever finds the objects of the
        # requests in flight: at the default threshold (700) it ran more than once per
        # request and promoted them to older generations (README, "Troubleshooting").
        gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
        observe_gc_pauses()
        sampler = RuntimeSampler(settings.metrics_sample_interval_seconds, container.jobs)
        sampler.start()
        logger.info("agora started", extra={"env": settings.app_env})
        try:
            yield
        finally:
            stop_draining_on_signals()
            await sampler.stop()
            ending_sessions.cancel()
            await container.close()
            if manage_database:
                await close_database()
            forget_this_process()
            flush_repeats()
            tracing.flush()
            logger.info("agora stopped")

    middleware = [
        # The request id, the access log and the security headers, in that order.
        Middleware(EdgeMiddleware, routes=routes, hsts=settings.is_production),
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allowed_origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=[*settings.cors_allowed_headers, settings.csrf_header],
            # ETag: a client that revalidates a GET query itself reads it (HTTP caching).
            expose_headers=["X-Request-ID", "Retry-After", "ETag"],
            allow_credentials=True,
            max_age=600,
        ),
        Middleware(CompressionMiddleware, minimum_size=1024),
        Middleware(
            BodyLimitMiddleware,
            json_limit=settings.max_json_body_bytes,
            multipart_limit=settings.max_multipart_body_bytes,
        ),
    ]
    if settings.tracing_enabled:
        middleware.insert(0, tracing_middleware(routes))
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.container = container
    app.state.settings = settings
    app.state.graphql_view = view
    return app
