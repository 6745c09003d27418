"""The one place where errors become GraphQL error objects (code, requestId, masking)."""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLSyntaxError

from services.errors import ERROR_CODE_DESCRIPTIONS, AppError, ErrorCode

logger = logging.getLogger("agora.graphql")

MASKED_MESSAGE = "An unexpected error occurred"

ErrorCodeEnum = strawberry.enum(
    ErrorCode,
    name="ErrorCode",
    description="The value of `extensions.code` on every error this API returns.",
)
for member in ErrorCodeEnum.__strawberry_definition__.values:  # type: ignore[attr-defined]
    member.description = ERROR_CODE_DESCRIPTIONS[ErrorCode(member.value)]


def is_expected(error: GraphQLError) -> bool:
    """Client-caused errors: our AppErrors and graphql-core's own document/variable errors."""
    original = error.original_error
    return original is None or isinstance(original, (AppError, GraphQLError))


def error_code(error: GraphQLError) -> ErrorCode:
    original = error.original_error
    if isinstance(original, AppError):
        return original.code
    if isinstance(original, GraphQLError):
        return error_code(original)
    if original is not None:
        return ErrorCode.INTERNAL_SERVER_ERROR
    if error.extensions and "code" in error.extensions:
        return ErrorCode(error.extensions["code"])
    if isinstance(error, GraphQLSyntaxError):
        if "Document contains more than" in error.message or "nested too deeply" in error.message:
            return ErrorCode.QUERY_TOO_COMPLEX
        return ErrorCode.GRAPHQL_PARSE_FAILED
    if error.message.startswith("Variable '$"):
        return ErrorCode.BAD_USER_INPUT
    return ErrorCode.GRAPHQL_VALIDATION_FAILED


def http_status(error: GraphQLError) -> int:
    """The HTTP status this error asks for when it stops the whole request."""
    original = error.original_error
    if isinstance(original, AppError) and original.http_status >= 400:
        return original.http_status
    return 400


def format_error(error: GraphQLError, *, mask: bool, request_id: str | None) -> dict[str, Any]:
    formatted: dict[str, Any] = dict(error.formatted)
    original = error.original_error
    code = error_code(error)
    extensions: dict[str, Any] = dict(formatted.get("extensions") or {})
    if isinstance(original, AppError):
        formatted["message"] = original.message
        extensions.update(original.extensions)
    elif code is ErrorCode.INTERNAL_SERVER_ERROR and mask:
        formatted["message"] = MASKED_MESSAGE
        extensions = {}
    extensions["code"] = code.value
    extensions["requestId"] = request_id
    formatted["extensions"] = extensions
    return formatted


def log_unexpected_errors(errors: list[GraphQLError], operation_name: str | None) -> None:
    for error in errors:
        if is_expected(error):
            continue
        original = error.original_error
        assert original is not None
        logger.error(
            "unexpected error: %s",
            original,
            exc_info=(type(original), original, original.__traceback__),
            extra={"path": error.path, "operationName": operation_name},
        )
