"""JSON responses shaped like GraphQL results, for refusals made outside execution."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from starlette.responses import Response

from core import tracing
from core.metrics import GRAPHQL_ERRORS, child
from core.request_context import current_request_id
from services.errors import AppError

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
LEGACY_JSON = "application/json"


def encode_json(data: Any) -> bytes:
    return orjson.dumps(data)


class JSONResponse(Response):
    def __init__(
        self,
        content: Any,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str = LEGACY_JSON,
    ) -> None:
        super().__init__(encode_json(content), status_code, headers, media_type)


def response_extensions(
    request_id: str | None, extensions: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A response's ``extensions``: what execution reported, the request id and, with
    tracing on, the trace id (to find the request's trace from what a client saw)."""
    found = {**(extensions or {}), "requestId": request_id}
    if tracing.enabled and (trace_id := tracing.current_trace_id()) is not None:
        found["traceId"] = trace_id
    return found


def error_payload(errors: Iterable[AppError]) -> dict[str, Any]:
    request_id = current_request_id()
    errors = list(errors)
    for error in errors:
        child(GRAPHQL_ERRORS, error.code.value).inc()
    return {
        "errors": [
            {"message": error.message, "extensions": {**error.extensions, "requestId": request_id}}
            for error in errors
        ],
        "extensions": response_extensions(request_id),
    }


def error_response(
    errors: list[AppError],
    status_code: int | None = None,
    media_type: str = GRAPHQL_RESPONSE_JSON,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A request error: no ``data`` key, the status taken from the first error."""
    all_headers: dict[str, str] = {}
    for error in errors:
        all_headers.update(error.headers)
    all_headers.update(headers or {})
    return JSONResponse(
        error_payload(errors),
        status_code=status_code or errors[0].http_status,
        headers=all_headers,
        media_type=media_type,
    )
