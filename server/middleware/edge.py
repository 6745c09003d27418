"""The three outermost layers of an HTTP request in one: the request id
(``request_id.RequestIdMiddleware``), the access log (``access_log.AccessLogMiddleware``) and
the security headers (``security_headers.SecurityHeadersMiddleware``), in that order, each
doing what its own middleware does; one frame and one wrapped ``send`` instead of three. A
websocket gets its request id only, as through the three."""

from __future__ import annotations

import time

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.request_context import request_id_var
from server.middleware.access_log import (
    AccessLogMiddleware,
    enter_request,
    is_stream,
    leave_request,
)
from server.middleware.request_id import RequestIdMiddleware, assign_request_id, stamp_request_id
from server.middleware.security_headers import SecurityHeadersMiddleware


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, *, routes: list[BaseRoute], hsts: bool) -> None:
        self.app = app
        self.access_log = AccessLogMiddleware(app, routes=routes)
        self.security_headers = SecurityHeadersMiddleware(app, hsts=hsts)
        self.request_id = RequestIdMiddleware(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.request_id(scope, receive, send)
            return
        request_id = assign_request_id(scope)
        id_token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        streamed_after: float | None = None  # a stream: seconds until its headers
        tokens = enter_request()
        add_headers = self.security_headers.add_headers

        async def edge_send(message: Message) -> None:
            nonlocal status, streamed_after
            if message["type"] == "http.response.start":
                add_headers(message)
                status = message["status"]
                if is_stream(message):
                    streamed_after = time.perf_counter() - started
                stamp_request_id(message, request_id)
            await send(message)

        try:
            await self.app(scope, receive, edge_send)
        finally:
            self.access_log.record(scope, status, time.perf_counter() - started, streamed_after)
            leave_request(tokens)
            request_id_var.reset(id_token)
