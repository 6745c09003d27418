"""The one place where errors become GraphQL error objects (code, requestId, masking)."""

from __future__ import annotations

import logging
import re
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from core.metrics import GRAPHQL_ERRORS, child
from services.errors import ERROR_CODE_DESCRIPTIONS, AppError, BadUserInput, ErrorCode
from services.unavailable import log_outage, service_unavailable

logger = logging.getLogger("agora.graphql")

MASKED_MESSAGE = "An unexpected error occurred"

# graphql-core's messages for input values (rather than documents) that it refuses itself:
# a variable's value or default, and an Int literal beyond GraphQL's 32 bits. Its other
# "Variable '$x' …" messages ("is never used", "is not defined") are document errors.
BAD_INPUT_MESSAGE = re.compile(
    r"Variable '\$\w+' has invalid (default )?value"
    r"|Int cannot represent non 32-bit signed integer value"
)

ErrorCodeEnum = strawberry.enum(
    ErrorCode,
    name="ErrorCode",
    description="The value of `extensions.code` on every error this API returns.",
)
for member in ErrorCodeEnum.__strawberry_definition__.values:  # type: ignore[attr-defined]
    member.description = ERROR_CODE_DESCRIPTIONS[ErrorCode(member.value)]


OperationRefusal = MissingQueryError | CannotGetOperationTypeError | InvalidOperationTypeError


def refusal_of(error: OperationRefusal) -> BadUserInput:
    """Strawberry's refusal of a document it cannot run (no query, an unknown operation
    name, an operation type the transport does not serve): the client's mistake."""
    if isinstance(error, MissingQueryError):
        return BadUserInput("No GraphQL query found in the request")
    if isinstance(error, CannotGetOperationTypeError):
        return BadUserInput(error.as_http_error_reason())
    kind = error.operation_type.value
    return BadUserInput(
        f"A {kind} cannot be sent over this transport: the legacy graphql-ws protocol "
        "serves subscriptions only; use graphql-transport-ws or HTTP for queries and "
        "mutations"
    )


def operation_refusal(error: Exception) -> BadUserInput | None:
    """``refusal_of`` for Strawberry's refusals that reach error formatting (over websockets;
    the HTTP view answers them itself), None for any other exception."""
    if isinstance(
        error, MissingQueryError | CannotGetOperationTypeError | InvalidOperationTypeError
    ):
        return refusal_of(error)
    return None


def app_error(error: GraphQLError) -> AppError | None:
    """The AppError behind ``error``: the one a resolver raised, a refusal of the operation,
    or SERVICE_UNAVAILABLE for a database outage; None for graphql-core's own errors and
    unexpected exceptions."""
    original = error.original_error
    if isinstance(original, AppError):
        return original
    if isinstance(original, GraphQLError):
        return app_error(original)
    if original is None:
        return None
    return operation_refusal(original) or service_unavailable(original)


def is_expected(error: GraphQLError) -> bool:
    """Client-caused errors (our AppErrors, graphql-core's own document/variable errors) and
    database outages: none of them is a bug to log with its stack."""
    original = error.original_error
    return original is None or isinstance(original, GraphQLError) or app_error(error) is not None


def error_code(error: GraphQLError) -> ErrorCode:
    original = error.original_error
    if isinstance(original, AppError):
        return original.code
    # graphql-core wraps the coercion error of a variable's value in "Variable '$x' has
    # invalid value: ...": the value is bad input whatever the scalar that refused it.
    if BAD_INPUT_MESSAGE.match(error.message):
        return ErrorCode.BAD_USER_INPUT
    if isinstance(original, GraphQLError):
        return error_code(original)
    if (cause := app_error(error)) is not None:
        return cause.code
    if original is not None:
        return ErrorCode.INTERNAL_SERVER_ERROR
    if error.extensions and "code" in error.extensions:
        return ErrorCode(error.extensions["code"])
    if isinstance(error, GraphQLSyntaxError):
        if "Document contains more than" in error.message or "nested too deeply" in error.message:
            return ErrorCode.QUERY_TOO_COMPLEX
        return ErrorCode.GRAPHQL_PARSE_FAILED
    return ErrorCode.GRAPHQL_VALIDATION_FAILED


def http_status(error: GraphQLError) -> int:
    """The HTTP status this error asks for when it stops the whole request."""
    cause = app_error(error)
    if cause is not None and cause.http_status >= 400:
        return cause.http_status
    return 400


def format_error(error: GraphQLError, *, mask: bool, request_id: str | None) -> dict[str, Any]:
    formatted: dict[str, Any] = dict(error.formatted)
    cause = app_error(error)
    code = error_code(error)
    extensions: dict[str, Any] = dict(formatted.get("extensions") or {})
    if cause is not None:
        # graphql-core's own wrapper ("Variable '$x' has invalid value: …") already says
        # the cause's message and names what was refused: keep it.
        if not isinstance(error.original_error, GraphQLError):
            formatted["message"] = cause.message
        extensions.update(cause.extensions)
    elif code is ErrorCode.INTERNAL_SERVER_ERROR and mask:
        formatted["message"] = MASKED_MESSAGE
        extensions = {}
    extensions["code"] = code.value
    extensions["requestId"] = request_id
    child(GRAPHQL_ERRORS, code.value).inc()
    formatted["extensions"] = extensions
    return formatted


def log_unexpected_errors(errors: list[GraphQLError], operation_name: str | None) -> None:
    for error in errors:
        original = error.original_error
        if is_expected(error):
            if original is not None and not isinstance(original, (AppError, GraphQLError)):
                log_outage(original)  # the only expected error that is not an AppError
            continue
        assert original is not None
        logger.error(
            "unexpected error: %s",
            original,
            exc_info=(type(original), original, original.__traceback__),
            extra={"path": error.path, "operationName": operation_name},
        )
