"""The GraphQL-over-HTTP request parameters, checked before anything runs.

A body (JSON, multipart ``operations``) or a GET query string becomes one
``GraphQLRequestData``, or a list of them for a batch. Anything else is a request that is not
a well-formed GraphQL-over-HTTP request, refused with 400 BAD_USER_INPUT naming the parameter:
a body that is not an object or a list of objects, ``query`` or ``operationName`` that is not
a string, ``variables`` or ``extensions`` that is not an object, a GET parameter given twice.
Strawberry checks only some of this, and only for single operations; the rest reached the
executor and the metrics code as INTERNAL_SERVER_ERROR or a plain-text 500.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import QueryParams
from strawberry.http import GraphQLRequestData

from services.errors import BadUserInput, QueryTooComplex

PARAMETERS = ("query", "operationName", "variables", "extensions", "documentId", "doc_id")
JSON_PARAMETERS = ("variables", "extensions")


@dataclass
class HTTPRequestData(GraphQLRequestData):
    """Strawberry's request parameters, plus the id of a persisted document: ``documentId``
    (the GraphQL-over-HTTP persisted documents appendix) or ``doc_id`` (Relay's)."""

    document_id: str | None = None


def _document_id(parameters: dict[str, Any]) -> str | None:
    ids = [
        value
        for name in ("documentId", "doc_id")
        if (value := _optional(parameters, name, str, "a string"))
    ]
    if len(ids) > 1:
        raise BadUserInput("Send a document's id once: `documentId` or `doc_id`, not both")
    return ids[0] if ids else None


def kind_of(value: object) -> str:
    """A JSON value's kind, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "a file" if hasattr(value, "filename") else type(value).__name__


def _optional(parameters: dict[str, Any], name: str, expected: type, what: str) -> Any:
    value = parameters.get(name)
    if value is not None and not isinstance(value, expected):
        raise BadUserInput(f"`{name}` must be {what} or null, not {kind_of(value)}")
    return value


def one_request(parameters: object) -> GraphQLRequestData:
    """One operation's parameters, type-checked. An empty ``operationName`` means none."""
    if not isinstance(parameters, dict):
        raise BadUserInput(
            "A GraphQL request must be a JSON object with a `query` (or a list of such "
            f"objects, for a batch), not {kind_of(parameters)}"
        )
    return HTTPRequestData(
        query=_optional(parameters, "query", str, "a string"),
        operation_name=_optional(parameters, "operationName", str, "a string") or None,
        variables=_optional(parameters, "variables", dict, "an object"),
        extensions=_optional(parameters, "extensions", dict, "an object"),
        document_id=_document_id(parameters),
    )


def graphql_requests(data: object, max_batch: int) -> GraphQLRequestData | list[GraphQLRequestData]:
    """One operation, or a batch (a list) of 1 to ``max_batch`` operations; a bad element
    refuses the whole batch before any of it runs."""
    if not isinstance(data, list):
        return one_request(data)
    if not data:
        raise BadUserInput("A batch must contain at least one operation")
    if len(data) > max_batch:
        raise QueryTooComplex(
            f"A batch of {len(data)} operations is over the limit of {max_batch}",
            reason="BATCH_TOO_LARGE",
            maximumBatchSize=max_batch,
        )
    requests = []
    for index, element in enumerate(data, start=1):
        if not isinstance(element, dict):
            raise BadUserInput(
                f"Operation {index} of the batch must be a JSON object with a `query`, "
                f"not {kind_of(element)}"
            )
        try:
            requests.append(one_request(element))
        except BadUserInput as exc:
            raise BadUserInput(f"Operation {index} of the batch: {exc.message}") from exc
    return requests


def query_string_parameters(
    params: QueryParams, decode_json: Callable[[str], object]
) -> dict[str, Any]:
    """The request parameters of a GET: each at most once (a repeated one is ambiguous, and a
    cache and this server could pick different ones), JSON parameters decoded, and an empty
    parameter the same as an absent one (as the spec says)."""
    parameters: dict[str, Any] = {}
    for name in PARAMETERS:
        values = params.getlist(name)
        if len(values) > 1:
            raise BadUserInput(f"The `{name}` parameter is given {len(values)} times")
        if not values or values[0] == "":
            continue
        parameters[name] = values[0]
        if name in JSON_PARAMETERS:
            try:
                parameters[name] = decode_json(values[0])
            except ValueError as exc:
                raise BadUserInput(f"The `{name}` parameter is not valid JSON") from exc
    return parameters
