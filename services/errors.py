"""The application's error hierarchy.

Services and resolvers raise these; one place (``schema.errors``) turns them into GraphQL
errors with ``extensions.code``, and the HTTP layer picks the status code from ``http_status``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar


class ErrorCode(enum.Enum):
    BAD_USER_INPUT = "BAD_USER_INPUT"
    VALIDATION_ERROR = "VALIDATION_ERROR"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    EMAIL_NOT_VERIFIED = "EMAIL_NOT_VERIFIED"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    RATE_LIMITED = "RATE_LIMITED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
    PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
    PERSISTED_QUERY_NOT_ALLOWED = "PERSISTED_QUERY_NOT_ALLOWED"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


ERROR_CODE_DESCRIPTIONS: dict[ErrorCode, str] = {
    ErrorCode.BAD_USER_INPUT: "Malformed arguments, e.g. `first: 500` or an unparsable ID.",
    ErrorCode.VALIDATION_ERROR: (
        "Input failed validation; `extensions.details` lists every invalid field."
    ),
    ErrorCode.UNAUTHENTICATED: (
        "No valid access token where one is required (HTTP 401 if the token itself is bad)."
    ),
    ErrorCode.FORBIDDEN: "Authenticated but lacking a permission.",
    ErrorCode.NOT_FOUND: "The requested object does not exist or is not visible to you.",
    ErrorCode.CONFLICT: (
        "Duplicate value, illegal state transition or idempotency-key reuse with another payload."
    ),
    ErrorCode.INSUFFICIENT_FUNDS: "The wallet balance does not cover the amount.",
    ErrorCode.OUT_OF_STOCK: "A product does not have the requested quantity in stock.",
    ErrorCode.EMAIL_NOT_VERIFIED: "The account exists but its email is not verified yet.",
    ErrorCode.QUERY_TOO_COMPLEX: (
        "The document is over a limit: cost, tokens, fields (fragments expanded), depth, "
        "nesting, aliases, directives, operations or introspection depth (HTTP 400)."
    ),
    ErrorCode.RATE_LIMITED: (
        "The cost budget or an attempt limit is exhausted (HTTP 429, `Retry-After`, "
        "`extensions.retryAfter`)."
    ),
    ErrorCode.PAYLOAD_TOO_LARGE: "The body or an upload is over its size limit (HTTP 413).",
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: "The content type of the body or an upload is not allowed.",
    ErrorCode.GRAPHQL_PARSE_FAILED: "The document is not valid GraphQL syntax (HTTP 400).",
    ErrorCode.GRAPHQL_VALIDATION_FAILED: (
        "The document does not validate against the schema (HTTP 400)."
    ),
    ErrorCode.PERSISTED_QUERY_NOT_FOUND: (
        "No document is stored under this persisted-query hash (or `documentId`): send the "
        "request again with its `query` (HTTP 404; message `PersistedQueryNotFound`)."
    ),
    ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED: (
        "Automatic persisted queries are turned off: send the `query` itself (HTTP 400; "
        "message `PersistedQueryNotSupported`)."
    ),
    ErrorCode.PERSISTED_QUERY_HASH_MISMATCH: (
        "The persisted-query hash is not the SHA-256 of the `query` sent with it (HTTP 400)."
    ),
    ErrorCode.PERSISTED_QUERY_NOT_ALLOWED: (
        "This server runs only the trusted documents of its manifest, and the request names "
        "or sends another one (HTTP 400)."
    ),
    ErrorCode.SERVICE_UNAVAILABLE: (
        "A dependency (the database, the file storage, or Redis when the rate limiter fails "
        "closed) is unavailable; retry after `Retry-After` seconds (HTTP 503)."
    ),
    ErrorCode.INTERNAL_SERVER_ERROR: (
        "An unexpected error; logged in full with the request id, masked in production."
    ),
}


ECHO_LIMIT = 64


def echo(value: str) -> str:
    """A client's value quoted in an error message, cut to ``ECHO_LIMIT`` characters: a
    message must not hand back (or log) the 100,000 characters a client sent."""
    if len(value) <= ECHO_LIMIT:
        return f"'{value}'"
    return f"'{value[:ECHO_LIMIT]}…' ({len(value)} characters)"


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One invalid input field: ``field`` is the input path (``input.email``)."""

    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class AppError(Exception):
    """An expected error: it reaches the client with its code and message unmasked."""

    code: ClassVar[ErrorCode] = ErrorCode.INTERNAL_SERVER_ERROR
    http_status: ClassVar[int] = 200
    default_message: ClassVar[str] = "An unexpected error occurred"

    def __init__(self, message: str | None = None, **extensions: Any) -> None:
        self.message = message or self.default_message
        self.extra_extensions = extensions
        super().__init__(self.message)

    @property
    def extensions(self) -> dict[str, Any]:
        return {"code": self.code.value, **self.extra_extensions}

    @property
    def headers(self) -> dict[str, str]:
        return {}


class BadUserInput(AppError):
    code = ErrorCode.BAD_USER_INPUT
    http_status = 400
    default_message = "Invalid argument"


class NotAcceptable(BadUserInput):
    """The client cannot read the response the operation needs (``@defer`` without
    ``Accept: multipart/mixed``)."""

    http_status = 406


class ValidationFailed(AppError):
    code = ErrorCode.VALIDATION_ERROR
    default_message = "Input validation failed"

    def __init__(self, problems: Iterable[FieldProblem], message: str | None = None) -> None:
        self.problems = list(problems)
        super().__init__(message, details=[p.as_dict() for p in self.problems])


class Unauthenticated(AppError):
    code = ErrorCode.UNAUTHENTICATED
    http_status = 401
    default_message = "Authentication required"


class Forbidden(AppError):
    code = ErrorCode.FORBIDDEN
    http_status = 403
    default_message = "You do not have permission to do this"


class NotFound(AppError):
    code = ErrorCode.NOT_FOUND
    http_status = 404
    default_message = "Not found"


class Conflict(AppError):
    code = ErrorCode.CONFLICT
    http_status = 409
    default_message = "Conflict"


class InsufficientFunds(AppError):
    code = ErrorCode.INSUFFICIENT_FUNDS
    default_message = "Insufficient funds"


class OutOfStock(AppError):
    code = ErrorCode.OUT_OF_STOCK
    default_message = "Out of stock"


class EmailNotVerified(AppError):
    code = ErrorCode.EMAIL_NOT_VERIFIED
    http_status = 403
    default_message = "Verify your email address before logging in"


class QueryTooComplex(AppError):
    code = ErrorCode.QUERY_TOO_COMPLEX
    http_status = 400
    default_message = "Query is too complex"


class RateLimited(AppError):
    code = ErrorCode.RATE_LIMITED
    http_status = 429
    default_message = "Rate limit exceeded"

    def __init__(self, retry_after: float, message: str | None = None, **extensions: Any) -> None:
        self.retry_after = max(1, int(-(-retry_after // 1)))  # whole seconds, rounded up
        super().__init__(message, retryAfter=self.retry_after, **extensions)

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class PayloadTooLarge(AppError):
    code = ErrorCode.PAYLOAD_TOO_LARGE
    http_status = 413
    default_message = "Payload too large"


class UnsupportedMediaType(AppError):
    code = ErrorCode.UNSUPPORTED_MEDIA_TYPE
    http_status = 415
    default_message = "Unsupported media type"


class PersistedQueryError(AppError):
    """A refusal of the persisted-document protocol: a GraphQL request error (no ``data``),
    answered like a document that does not validate."""


class PersistedQueryNotFound(PersistedQueryError):
    """Apollo's APQ miss: clients (Apollo Client, urql) match this message or code and send
    the request again with the document."""

    code = ErrorCode.PERSISTED_QUERY_NOT_FOUND
    http_status = 404
    default_message = "PersistedQueryNotFound"

    @property
    def headers(self) -> dict[str, str]:
        # A 404 is cacheable by default: a cached miss would send every client through the
        # miss-then-full-document round trip for as long as a cache keeps it.
        return {"Cache-Control": "no-store"}


class PersistedQueryNotSupported(PersistedQueryError):
    """Clients match this message or code, stop sending hashes and send documents."""

    code = ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED
    http_status = 400
    default_message = "PersistedQueryNotSupported"


class PersistedQueryHashMismatch(PersistedQueryError):
    code = ErrorCode.PERSISTED_QUERY_HASH_MISMATCH
    http_status = 400
    default_message = "provided sha does not match query"


class PersistedQueryNotAllowed(PersistedQueryError):
    code = ErrorCode.PERSISTED_QUERY_NOT_ALLOWED
    http_status = 400
    default_message = "This server runs only the trusted documents of its manifest"


class ServiceUnavailable(AppError):
    """A dependency the request needs is down: retry later (HTTP 503, ``Retry-After``)."""

    code = ErrorCode.SERVICE_UNAVAILABLE
    http_status = 503
    default_message = "The service is temporarily unavailable; retry shortly"

    def __init__(self, message: str | None = None, retry_after: int = 5) -> None:
        self.retry_after = retry_after
        super().__init__(message, retryAfter=retry_after)

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
