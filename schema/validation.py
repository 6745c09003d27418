"""Validation: each distinct document is validated once, and a request answers at most a few
validation errors.

A document can break a rule at every token (``__typename @aa@aa@aa…`` is one unknown
directive per ``@aa``), and graphql-core reports each, up to 100 and one more saying it gave
up. A client reads the first few; the rest are summed up in one last error.
"""

from __future__ import annotations

from functools import lru_cache

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema
from graphql.validation.validate import ValidationAbortedError
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext

from services.errors import ErrorCode

VALIDATION_ERRORS_SHOWN = 5
VALIDATION_CACHE_SIZE = 512


def capped(errors: list[GraphQLError]) -> list[GraphQLError]:
    """The first ``VALIDATION_ERRORS_SHOWN`` errors, then one that counts the others."""
    found = [error for error in errors if not isinstance(error, ValidationAbortedError)]
    if len(found) <= VALIDATION_ERRORS_SHOWN:
        return errors
    more = len(found) - VALIDATION_ERRORS_SHOWN
    # graphql-core stops at its max_errors (100) and says so: there were more than that.
    stopped = len(found) < len(errors)
    counted = f"at least {more + 1}" if stopped else str(more)
    summary = GraphQLError(
        f"And {counted} more validation errors: only the first {VALIDATION_ERRORS_SHOWN} "
        "are reported.",
        extensions={"code": ErrorCode.GRAPHQL_VALIDATION_FAILED.value},
    )
    return [*found[:VALIDATION_ERRORS_SHOWN], summary]


@lru_cache(maxsize=VALIDATION_CACHE_SIZE)
def _validate(
    schema: GraphQLSchema, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    return capped(validate_document(schema, document, rules))


def validate_capped(ctx: ExecutionContext) -> None:
    """Strawberry's validation (its rules and its own), cached like its ``ValidationCache``
    and capped. Strawberry validates only when no extension has (``pre_execution_errors``
    is still None), so this replaces its step (``RequestPipeline.on_validate``); the errors
    must be set before the hook's ``yield``, since Strawberry builds the refusal before the
    hooks return."""
    assert ctx.graphql_document is not None, "validation follows a successful parse"
    ctx.pre_execution_errors = _validate(
        ctx.schema._schema, ctx.graphql_document, ctx.validation_rules
    )
