"""The shape of a message a websocket client sends, checked before Strawberry reads it.

Strawberry indexes messages as it finds them: a message that is not an object, an ``id``
that is not a string, a payload that is not an object raised outside its error handling
(uvicorn logged "Exception in ASGI application" and dropped the socket), and a payload with
an ``operationName`` or ``query`` of the wrong type reached the executor and the metrics code
(INTERNAL_SERVER_ERROR). The GraphQL parameters of a subscribe/start payload follow the same
rule as an HTTP request (``server.graphql_request``).
"""

from __future__ import annotations

from server.graphql_request import kind_of, one_request
from services.errors import BadUserInput

# A websocket close reason is at most 123 bytes of UTF-8.
MAX_CLOSE_REASON = 123


def message_problem(message: object, start_type: str, stop_type: str) -> str | None:
    """What is wrong with ``message`` (None when nothing): ``start_type`` is the message
    that starts an operation (``subscribe``, or ``start`` in the legacy protocol)."""
    if not isinstance(message, dict):
        return f"A message must be a JSON object, not {kind_of(message)}"
    kind = message.get("type")
    if not isinstance(kind, str):
        return "A message needs a string `type`"
    if kind not in (start_type, stop_type):
        return None
    if not isinstance(message.get("id"), str):
        return f"A {kind} message needs a string `id`"
    if kind == stop_type:
        return None
    payload = message.get("payload")
    if not isinstance(payload, dict):
        return f"A {kind} message needs an object `payload`, not {kind_of(payload)}"
    try:
        request = one_request(payload)
    except BadUserInput as exc:
        return f"Invalid {kind} payload: {exc.message}"
    if request.query is None:
        return f"A {kind} payload needs a `query`"
    return None


def close_reason(problem: str) -> str:
    encoded = problem.encode()
    if len(encoded) <= MAX_CLOSE_REASON:
        return problem
    return encoded[: MAX_CLOSE_REASON - 3].decode(errors="ignore") + "..."
