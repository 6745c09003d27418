"""``GET /files/{key}``: downloads for the local storage backend.

A URL is valid only with the signature ``LocalStorage`` made for exactly its key, expiry,
filename and type, and only until it expires (403 otherwise, 404 when the object is gone).
The file is always served as an attachment with the type detected at upload and
``nosniff``, under a CSP that forbids everything, so nothing uploaded runs in our origin.
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from server.container import Container
from server.responses import error_response
from services.errors import Forbidden, NotFound
from services.storage import LocalStorage
from services.storage.local import OCTET_STREAM, SignedDownload
from services.storage.media import ALLOWED_TYPES
from services.storage.names import content_disposition

MAX_CACHE_SECONDS = 300
FILE_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'"


async def download(request: Request) -> Response:
    container: Container = request.app.state.container
    storage = container.storage
    if not isinstance(storage, LocalStorage):
        return error_response([NotFound("No such file")], status_code=404)
    params = request.query_params
    expires = params.get("expires", "")
    if not (expires.isascii() and expires.isdigit()):
        return _forbidden()
    signed = SignedDownload(
        key=request.path_params["key"],
        expires=int(expires),
        filename=params.get("filename", ""),
        content_type=params.get("type", ""),
    )
    if not storage.verify(signed, params.get("signature", "")):
        return _forbidden()
    try:
        path = storage.path_for(signed.key)
    except FileNotFoundError:
        path = None
    if path is None or not path.is_file():
        return error_response([NotFound("No such file")], status_code=404)
    max_age = max(0, min(MAX_CACHE_SECONDS, signed.expires - int(time.time())))
    headers = {
        "Content-Disposition": content_disposition(signed.filename),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": FILE_CSP,
        "Cache-Control": f"private, max-age={max_age}",
    }
    media_type = signed.content_type if signed.content_type in ALLOWED_TYPES else OCTET_STREAM
    return FileResponse(path, media_type=media_type, headers=headers)


def _forbidden() -> Response:
    return error_response(
        [Forbidden("This download link is invalid or has expired")], status_code=403
    )
