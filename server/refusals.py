"""Refusals of an HTTP request or of one operation before it executes, as results."""

from __future__ import annotations

from cross_web import HTTPException
from graphql import GraphQLError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from services.errors import (
    AppError,
    BadUserInput,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)


def http_exception_error(exc: HTTPException) -> AppError:
    """Strawberry's (and our) ``HTTPException`` as the error of our contract."""
    if exc.status_code == 404:
        return NotFound(exc.reason)
    if exc.status_code == 413:
        return PayloadTooLarge(exc.reason)
    if exc.status_code == 415:
        return UnsupportedMediaType(exc.reason)
    return BadUserInput(exc.reason)


def is_request_error(result: ExecutionResult) -> bool:
    """Errors that stopped the request before execution: the response has no ``data``."""
    if isinstance(result, PreExecutionError):
        return True
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or ())
    )


def refused(error: AppError) -> PreExecutionError:
    """One operation's refusal, as its own result (the others of its batch run)."""
    return PreExecutionError(data=None, errors=[GraphQLError(error.message, original_error=error)])
