"""Refuse bodies over their limit with 413 before the application reads them whole.

JSON and other bodies get ``json_limit``; multipart uploads get ``multipart_limit`` (each
file is limited again where it is stored). Both the declared ``Content-Length`` and the bytes
actually streamed are checked, so a chunked body cannot slip past.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.responses import error_response
from services.errors import PayloadTooLarge


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, json_limit: int, multipart_limit: int) -> None:
        self.app = app
        self.json_limit = json_limit
        self.multipart_limit = multipart_limit

    def limit_for(self, headers: Headers) -> int:
        content_type = headers.get("content-type", "")
        if content_type.startswith("multipart/form-data"):
            return self.multipart_limit
        return self.json_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit = self.limit_for(headers)
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self.refuse(limit, scope, receive, send)
            return

        received = 0
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge(f"Request body is larger than the limit of {limit} bytes")
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except PayloadTooLarge:
            if response_started:
                raise
            await self.refuse(limit, scope, receive, send)

    @staticmethod
    async def refuse(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
        error = PayloadTooLarge(f"Request body is larger than the limit of {limit} bytes")
        await error_response([error], status_code=413)(scope, receive, send)
