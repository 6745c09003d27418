"""An operation's result as the HTTP answer: the JSON payload and its status, the response
with the sub-response's headers and HTTP caching, and ``@defer``/``@stream`` results as a
``multipart/mixed`` stream (``server/incremental/``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.websockets import WebSocket
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from core.request_context import current_request_id
from schema.errors import app_error, format_error, http_status, log_unexpected_errors
from server.cached_responses import RESPONSE_CACHE_HEADER
from server.http_cache import NO_STORE, with_cache_headers
from server.incremental.multipart import multipart_body
from server.incremental.payloads import payloads_for
from server.negotiation import MODERN
from server.refusals import is_request_error
from server.responses import response_extensions
from server.sub_response import IncrementalResult, SubResponse
from services.errors import RateLimited, ServiceUnavailable

# Statuses kept even for legacy application/json clients: they are HTTP-level refusals,
# not GraphQL request errors (which the spec answers with 200 under application/json).
HTTP_LEVEL_STATUSES = frozenset({401, 406, 413, 415, 429, 503})
# Answers whose Retry-After header is kept: clients and proxies back off on these.
RETRY_AFTER_STATUSES = frozenset({429, 503})


def result_payload(
    request: Request | WebSocket, result: ExecutionResult, *, mask: bool
) -> GraphQLHTTPResponse:
    """The JSON payload of one result; sets the status (and Retry-After) it calls for on the
    request's sub-response."""
    sub_response: Response | None = getattr(request.state, "sub_response", None)
    if isinstance(sub_response, SubResponse) and sub_response.cache_control != NO_STORE:
        # A cacheable body may be served to others, later: it carries nothing of this
        # request (its id is in X-Request-ID) nor of this client (its cost budget).
        return {"data": result.data}
    request_id = getattr(request.state, "request_id", None) or current_request_id()
    request_error = is_request_error(result)
    payload: dict[str, Any] = {} if request_error else {"data": result.data}
    errors: list[GraphQLError] = result.errors or []
    if errors:
        payload["errors"] = [
            format_error(error, mask=mask, request_id=request_id) for error in errors
        ]
    payload["extensions"] = response_extensions(request_id, result.extensions)
    if sub_response is not None and RESPONSE_CACHE_HEADER in sub_response.headers:
        hit = sub_response.headers[RESPONSE_CACHE_HEADER] == "HIT"
        payload["extensions"]["responseCache"] = {"hit": hit}
    if sub_response is not None:
        status = None
        if request_error:
            status = max(http_status(error) for error in errors)
            if (
                request.state.response_format.request_errors_as_200
                and status not in HTTP_LEVEL_STATUSES
            ):
                status = 200
        for error in errors:
            # Throttling answers 429 + Retry-After even when it happened in a resolver
            # (login attempts), and an operation that produced no data because the
            # database is down answers 503 + Retry-After: clients and proxies back off
            # on the status alone. (With data, the spec requires a 2xx.)
            cause = app_error(error)
            if isinstance(cause, RateLimited) or (
                isinstance(cause, ServiceUnavailable) and result.data is None
            ):
                status = cause.http_status
                sub_response.headers.update(cause.headers)
        if status is not None:
            sub_response.status_code = status
    return payload  # type: ignore[return-value]


def json_response(
    response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
) -> Response:
    """The payload (or a batch's) as the response, with the sub-response's status and
    headers, and HTTP caching headers for a cacheable GET."""
    # A batch answers 200: each operation carries its own errors.
    status = 200 if isinstance(response_data, list) else sub_response.status_code or 200
    response_format = (
        sub_response.response_format if isinstance(sub_response, SubResponse) else MODERN
    )
    response = Response(
        orjson.dumps(response_data),
        status_code=status,
        media_type=response_format.media_type(status),
    )
    for name, value in sub_response.headers.items():
        if name not in ("content-type", "content-length") and (
            status in RETRY_AFTER_STATUSES or name != "retry-after"
        ):
            response.headers.append(name, value)
    if sub_response.background:
        response.background = sub_response.background
    if isinstance(sub_response, SubResponse) and not isinstance(response_data, list):
        cache_control_value = sub_response.cache_control
        if cache_control_value != NO_STORE:
            return with_cache_headers(
                response,
                cache_control_value=cache_control_value,
                if_none_match=sub_response.if_none_match,
            )
    return response


def incremental_response(
    request: Request | WebSocket,
    incremental: IncrementalResult,
    sub_response: Response,
    *,
    mask: bool,
) -> Response:
    """A ``@defer``/``@stream`` result streamed in the format the client asked for, each
    part's errors in the error contract."""
    request_id = getattr(request.state, "request_id", None) or current_request_id()

    def format_errors(errors: Sequence[GraphQLError]) -> list[dict[str, Any]]:
        return [format_error(error, mask=mask, request_id=request_id) for error in errors]

    def log_errors(errors: list[GraphQLError]) -> None:
        log_unexpected_errors(errors, incremental.operation_name)

    def failure(exc: Exception) -> dict[str, Any]:
        return format_error(
            GraphQLError(str(exc), original_error=exc), mask=mask, request_id=request_id
        )

    initial = incremental.results.initial_result
    body = multipart_body(
        incremental.results,
        payloads_for(incremental.format, format_errors),
        response_extensions(request_id, initial.extensions),
        log_errors,
        failure,
    )
    response = StreamingResponse(body, media_type=incremental.format.content_type)
    for name, value in sub_response.headers.items():
        if name not in ("content-type", "content-length", "retry-after"):
            response.headers.append(name, value)
    return response
