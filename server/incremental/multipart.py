"""The ``multipart/mixed`` body of an incremental response, written as Apollo Server writes
it and Apollo Client (``HttpLink``) and ``meros`` (Relay, urql) read it.

Boundary ``-``; every part is ``Content-Type: application/json; charset=utf-8`` and one
payload, and every chunk sent ends with the delimiter that closes its part (a reader emits a
part only once it sees the next delimiter), the last one with the closing ``--``. A failure
of graphql-core's stream itself (not an error of a field, which is in the payloads) ends the
body with a last payload ``{hasNext: false, errors: [...]}`` instead of a cut connection.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from typing import Any

import orjson
from graphql import ExperimentalIncrementalExecutionResults, GraphQLError

from server.incremental.payloads import Payloads

logger = logging.getLogger("agora.graphql")

DELIMITER = b"\r\n---"
PART_HEADERS = b"\r\nContent-Type: application/json; charset=utf-8\r\n\r\n"
CLOSE = b"--\r\n"


def part(payload: dict[str, Any]) -> bytes:
    """One part and the delimiter after it (closing when it is the last)."""
    chunk = PART_HEADERS + orjson.dumps(payload) + DELIMITER
    return chunk if payload.get("hasNext", False) else chunk + CLOSE


async def multipart_body(
    results: ExperimentalIncrementalExecutionResults,
    payloads: Payloads,
    initial_extensions: dict[str, Any],
    on_errors: Callable[[list[GraphQLError]], None],
    failure: Callable[[Exception], dict[str, Any]],
) -> AsyncIterator[bytes]:
    """The body: each payload as soon as graphql-core has it. ``on_errors`` sees the errors
    of every later payload (logging); ``failure`` formats a failure of the stream itself.
    A payload is encoded before the next one is asked for (``payloads`` keeps state)."""
    yield DELIMITER + part(payloads.initial(results.initial_result, initial_extensions))
    has_next = results.initial_result.has_next
    async with aclosing(results.subsequent_results) as subsequent:
        try:
            async for result in subsequent:
                has_next = result.has_next
                errors = [
                    error
                    for entry in [*(result.incremental or ()), *(result.completed or ())]
                    for error in entry.errors or ()
                ]
                if errors:
                    on_errors(errors)
                payload = payloads.subsequent(result)
                if payload is not None:
                    yield part(payload)
        except Exception as exc:  # the body must end as a multipart body
            logger.exception("incremental delivery failed")
            yield part({"hasNext": False, "errors": [failure(exc)]})
            return
    if has_next:  # graphql-core ended without saying so: close the body all the same
        yield part({"hasNext": False})
