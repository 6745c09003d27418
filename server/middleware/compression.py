"""gzip for responses, except subscription streams."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import Receive, Scope, Send

from server.http_streams.formats import Transport, requested_transport


class CompressionMiddleware(GZipMiddleware):
    """Starlette's gzip (which already leaves ``text/event-stream`` alone), skipped for
    Apollo's multipart subscriptions. Starlette 1.10 flushes each chunk of a streamed body
    (``Z_SYNC_FLUSH``), so compression holds nothing back, and short-lived ``multipart/mixed``
    answers (``@defer``) are compressed; but a subscription lives for hours with a zlib
    compressor of its own (~256 KiB each), so it goes out uncompressed. Exclusion by content
    type cannot tell the two apart (both are ``multipart/mixed``); the request's ``Accept``
    can (``subscriptionSpec``)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            requested_transport(Headers(scope=scope).get("accept")) is Transport.MULTIPART
        ):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
