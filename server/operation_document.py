"""Which document an HTTP operation runs: its ``query``, or the persisted or trusted document
it names (``server.persisted_queries``), a refusal becoming the operation's result."""

from __future__ import annotations

from collections.abc import Mapping

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from strawberry.http import GraphQLRequestData
from strawberry.types.execution import PreExecutionError

from server.persisted_queries import PersistedDocuments, Resolved
from services.errors import PersistedQueryError

# GET parameters that name a stored document instead of sending `query`.
PERSISTED_DOCUMENT_PARAMETERS = ("extensions", "documentId", "doc_id")


def names_persisted_document(params: Mapping[str, str]) -> bool:
    """A GET naming a stored document: an operation, even without `query`."""
    return any(params.get(name) for name in PERSISTED_DOCUMENT_PARAMETERS)


async def operation_document(
    persisted: PersistedDocuments,
    request: Request,
    request_data: GraphQLRequestData,
    sub_response: Response,
) -> Resolved | PreExecutionError:
    """The resolved document, or the refusal (its headers set on the sub-response)."""
    try:
        # Already resolved when the request asked for a stream and got plain JSON.
        return getattr(request.state, "persisted_document", None) or (
            await persisted.resolve(request_data)
        )
    except PersistedQueryError as exc:
        sub_response.headers.update(exc.headers)
        return PreExecutionError(data=None, errors=[GraphQLError(exc.message, original_error=exc)])
