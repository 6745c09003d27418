"""Give every request an id: a sane incoming ``X-Request-ID`` is kept, else one is made."""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.request_context import is_sane_request_id, new_request_id, request_id_var

REQUEST_ID_HEADER = "x-request-id"


def assign_request_id(scope: Scope) -> str:
    """The request's id, kept in its scope's state: a sane incoming one, else a new one."""
    incoming = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
    request_id = incoming if is_sane_request_id(incoming) else new_request_id()
    scope.setdefault("state", {})["request_id"] = request_id
    return request_id


def stamp_request_id(start: Message, request_id: str) -> None:
    """The id on an ``http.response.start``."""
    MutableHeaders(scope=start)[REQUEST_ID_HEADER] = request_id


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = assign_request_id(scope)
        token = request_id_var.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                stamp_request_id(message, request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
