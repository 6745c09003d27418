"""The response cache's hit path (``services.response_cache``): an anonymous request that sends
its document as text is looked up before Strawberry sees it, so a hit costs no parsing,
validation, context, loaders, schema extensions or JSON encoding of ``data``.

Only requests whose parameters are plain (``query``, optional ``operationName`` and
``variables`` object, nothing else, each once) and carry no ``Authorization`` take this path;
everything else goes the whole way (``GraphQLView.execute_single`` still looks persisted and
trusted documents up after resolving them). A key here is the one ``execute_single`` stored the
answer under: an entry exists only for a request with these exact parameters that ran, passed
every check and produced PUBLIC data without errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from core.metrics import CACHE_LOOKUPS
from core.request_context import operation_name_var
from server.http_cache import cache_control, with_cache_headers
from server.negotiation import ResponseFormat, body_type
from services.response_cache import CachedResponse, ResponseCache, response_key
from vocabulary.cache_hints import CacheControlScope, CachePolicy

PLAIN_PARAMETERS = frozenset({"query", "operationName", "variables"})
RESPONSE_CACHE_HEADER = "X-Response-Cache"
HITS = CACHE_LOOKUPS.labels("responses", "hit")
MISSES = CACHE_LOOKUPS.labels("responses", "miss")


@dataclass(frozen=True, slots=True)
class PlainRequest:
    query: str
    operation_name: str | None
    variables: dict[str, Any] | None


def may_stream(document: str) -> bool:
    """A document that may ask for incremental delivery, which is never cached."""
    return "@defer" in document or "@stream" in document


def _plain(parameters: dict[str, Any]) -> PlainRequest | None:
    query = parameters.get("query")
    operation_name = parameters.get("operationName") or None
    variables = parameters.get("variables")
    if (
        not isinstance(query, str)
        or not (operation_name is None or isinstance(operation_name, str))
        or not (variables is None or isinstance(variables, dict))
        or may_stream(query)
    ):
        return None
    return PlainRequest(query, operation_name, variables)


def _get_parameters(request: Request) -> dict[str, Any] | None:
    parameters: dict[str, Any] = {}
    for name, value in request.query_params.multi_items():
        if name not in PLAIN_PARAMETERS or name in parameters:
            return None
        if value == "":
            continue
        if name == "variables":
            try:
                parameters[name] = orjson.loads(value)
            except orjson.JSONDecodeError:
                return None
        else:
            parameters[name] = value
    return parameters


async def plain_request(request: Request) -> PlainRequest | None:
    """The parameters of an anonymous GET or JSON POST sending one document as text; None for
    anything else (a batch, a persisted document, extensions, an upload, a token)."""
    if "authorization" in request.headers:
        return None
    if request.method == "GET":
        parameters = _get_parameters(request)
    elif request.method == "POST" and body_type(request.headers) == "application/json":
        try:
            body = orjson.loads(await request.body())  # kept by Starlette for a miss
        except orjson.JSONDecodeError:
            return None
        parameters = body if isinstance(body, dict) and body.keys() <= PLAIN_PARAMETERS else None
    else:
        return None
    return _plain(parameters) if parameters is not None else None


def hit_response(
    cached: CachedResponse, *, method: str, response_format: ResponseFormat, request: Request
) -> Response:
    """The answer a miss would have given, from the stored ``data``: a GET's body is ``data``
    alone (same bytes, same ETag); a POST's has the request id and says it was a hit."""
    operation_name_var.set(cached.operation_name)
    if method == "GET":
        body = b'{"data":' + cached.data + b"}"
    else:
        request_id = getattr(request.state, "request_id", None) or ""
        body = (
            b'{"data":'
            + cached.data
            + b',"extensions":{"responseCache":{"hit":true},"requestId":'
            + orjson.dumps(request_id)
            + b"}}"
        )
    response = Response(body, media_type=response_format.media_type(200))
    policy = CachePolicy(max_age=cached.max_age, scope=CacheControlScope.PUBLIC)
    value = cache_control(method, policy)
    if method == "GET":
        response = with_cache_headers(
            response, cache_control_value=value, if_none_match=request.headers.get("if-none-match")
        )
    else:
        response.headers["Cache-Control"] = value
    response.headers[RESPONSE_CACHE_HEADER] = "HIT"
    return response


async def cached_answer(
    cache: ResponseCache, request: Request, response_format: ResponseFormat
) -> tuple[Response | None, str | None]:
    """The hit for ``request``, or None and the key to store the answer under (None: this
    request is not for the response cache here)."""
    plain = await plain_request(request)
    if plain is None:
        return None, None
    key = response_key(
        plain.query, plain.operation_name, plain.variables, response_format.media_type(200)
    )
    cached = await cache.get(key)
    if cached is None:
        MISSES.inc()
        return None, key
    HITS.inc()
    return hit_response(
        cached, method=request.method, response_format=response_format, request=request
    ), key
