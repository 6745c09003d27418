"""One JSON access-log line and the HTTP metrics for every request."""

from __future__ import annotations

import logging
import time
from contextvars import Token

from starlette.datastructures import Headers
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.metrics import HTTP_DURATION, HTTP_REQUESTS, child
from core.request_context import operation_name_var, user_id_var

logger = logging.getLogger("agora.access")

# Responses that stream for as long as the client stays (subscriptions over HTTP).
STREAM_MEDIA_TYPES = ("text/event-stream", "multipart/mixed")


def route_template(routes: list[BaseRoute], scope: Scope) -> str:
    """The matched route's path template: a bounded label, unlike the raw path."""
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return getattr(route, "path", "unmatched")
    return "unmatched"


# Distinct request targets whose template is remembered; past it the memo starts over
# (``/files/{key}`` has a path per file).
ROUTE_MEMO_SIZE = 256


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp, routes: list[BaseRoute]) -> None:
        self.app = app
        self.routes = routes
        self._templates: dict[tuple[str, str, str], str] = {}

    def route_template(self, scope: Scope) -> str:
        """``route_template``, remembered per method, path and root path: all a route's
        ``matches`` reads of an HTTP scope (Starlette's ``get_route_path``)."""
        key = (scope["method"], scope["path"], scope.get("root_path", ""))
        template = self._templates.get(key)
        if template is None:
            template = route_template(self.routes, scope)
            if len(self._templates) >= ROUTE_MEMO_SIZE:
                self._templates.clear()
            self._templates[key] = template
        return template

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        streamed_after: float | None = None  # a stream: seconds until its headers
        tokens = enter_request()

        async def capture_status(message: Message) -> None:
            nonlocal status, streamed_after
            if message["type"] == "http.response.start":
                status = message["status"]
                if is_stream(message):
                    streamed_after = time.perf_counter() - started
            await send(message)

        try:
            await self.app(scope, receive, capture_status)
        finally:
            self.record(scope, status, time.perf_counter() - started, streamed_after)
            leave_request(tokens)

    def record(
        self, scope: Scope, status: int, duration: float, streamed_after: float | None
    ) -> None:
        """The request's HTTP metrics and its JSON line, once it has ended."""
        route = self.route_template(scope)
        method = scope["method"]
        labels = (method, route, str(status))
        child(HTTP_REQUESTS, *labels).inc()
        # A stream lasts as long as its client stays: its latency is the time to start.
        latency = duration if streamed_after is None else streamed_after
        child(HTTP_DURATION, *labels).observe(latency)
        client = scope.get("client")
        fields = {
            "method": method,
            "path": scope["path"],
            "operationName": operation_name_var.get(),
            "status": status,
            "duration_ms": round(duration * 1000, 2),
            "userId": user_id_var.get(),
            "ip": client[0] if client else None,
        }
        if streamed_after is not None:
            fields["stream"] = True
        logger.info("request", extra=fields)


_Tokens = tuple[Token[str | None], Token[str | None]]


def enter_request() -> _Tokens:
    """A request's user and operation name start unset (the view and the pipeline set them)."""
    return user_id_var.set(None), operation_name_var.set(None)


def leave_request(tokens: _Tokens) -> None:
    user_id_var.reset(tokens[0])
    operation_name_var.reset(tokens[1])


def is_stream(start: Message) -> bool:
    """An ``http.response.start`` of a response that streams for as long as its client stays."""
    content_type = Headers(raw=start.get("headers", [])).get("content-type", "")
    return content_type.startswith(STREAM_MEDIA_TYPES)
