"""Starlette's gzip middleware, with the validators kept true (server/http_cache.py), and not
for subscription streams."""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import Message, Receive, Scope, Send

from server.http_cache import gzip_variant
from server.http_streams.formats import Transport, requested_transport


def _distinct(values: str) -> str:
    seen: dict[str, str] = {}
    for value in values.split(","):
        name = value.strip()
        if name:
            seen.setdefault(name.lower(), name)
    return ", ".join(seen.values())


class CompressionMiddleware(GZipMiddleware):
    """A gzip-encoded body is another representation than the plain one, so its strong ETag
    gets a suffix (Starlette keeps the ETag as it is; Apache's mod_deflate adds ``-gzip`` the
    same way). ``Vary`` lists Accept-Encoding once (Starlette appends it to what is there).

    Starlette already leaves ``text/event-stream`` alone. It flushes each chunk of a streamed
    body (``Z_SYNC_FLUSH``), so compression holds nothing back and short-lived
    ``multipart/mixed`` answers (``@defer``) are compressed; but an Apollo multipart
    subscription lives for hours with a zlib compressor of its own (~256 KiB each), so it goes
    out uncompressed. Exclusion by content type cannot tell the two apart (both are
    ``multipart/mixed``); the request's ``Accept`` can (``subscriptionSpec``)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        if requested_transport(Headers(scope=scope).get("accept")) is Transport.MULTIPART:
            await self.app(scope, receive, send)
            return

        async def send_with_validators(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                etag = headers.get("etag")
                if etag and headers.get("content-encoding") == "gzip" and etag.startswith('"'):
                    headers["etag"] = gzip_variant(etag)
                vary = headers.get("vary")
                if vary:
                    headers["vary"] = _distinct(vary)
            await send(message)

        await super().__call__(scope, receive, send_with_validators)
