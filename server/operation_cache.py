"""The response cache for an operation inside Strawberry's run (``execute_single``), once its
document is resolved: the key, the lookup and the store. A single plain request was looked up
before Strawberry already (``server.cached_responses``); both use the same key."""

from __future__ import annotations

import orjson
from starlette.responses import Response
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from core.request_context import operation_name_var
from server.cached_responses import HITS, MISSES, RESPONSE_CACHE_HEADER, may_stream
from server.sub_response import SubResponse
from services.response_cache import ResponseCache, entity_tag, response_key, response_tags
from vocabulary.cache_hints import CacheControlScope, CachePolicy
from vocabulary.context import Context, IncrementalDelivery


def operation_cache_key(
    cache: ResponseCache,
    document: str,
    request_data: GraphQLRequestData,
    context: Context,
    sub_response: Response,
    looked_up_key: str | None = None,
) -> str | None:
    """The response cache's key of this operation; None when it may not be cached: an
    authenticated viewer (its answers are PRIVATE), a batch, a document that may stream.
    ``looked_up_key``: the key ``server.cached_responses`` already computed for this plain
    request (same document, operation name, variables and format), reused as it is."""
    if (
        not cache.enabled
        or context.user is not None
        or not isinstance(sub_response, SubResponse)
        or context.incremental_delivery is IncrementalDelivery.IN_BATCH
        or may_stream(document)
    ):
        return None
    sub_response.headers[RESPONSE_CACHE_HEADER] = "MISS"
    context.shown_entities = set()
    if looked_up_key is not None:
        return looked_up_key
    media = sub_response.response_format.media_type(200)
    return response_key(document, request_data.operation_name, request_data.variables, media)


async def cached_result(
    cache: ResponseCache, key: str, sub_response: SubResponse
) -> ExecutionResult | None:
    """The stored data under ``key`` as the operation's result, the sub-response marked a
    hit with the stored policy; None on a miss."""
    cached = await cache.get(key)
    if cached is None:
        MISSES.inc()
        return None
    HITS.inc()
    operation_name_var.set(cached.operation_name)
    sub_response.headers[RESPONSE_CACHE_HEADER] = "HIT"
    sub_response.cache_policy = CachePolicy(max_age=cached.max_age, scope=CacheControlScope.PUBLIC)
    return ExecutionResult(data=orjson.loads(cached.data), errors=None)


async def store_result(
    cache: ResponseCache,
    key: str,
    document: str,
    request_data: GraphQLRequestData,
    result: object,
    context: Context,
) -> None:
    """Keeps a PUBLIC query's data without errors for its maxAge (``context.cache_policy``:
    none for mutations and results with errors, PRIVATE for an authenticated viewer)."""
    policy = context.cache_policy
    if (
        type(result) is not ExecutionResult
        or result.errors
        or policy is None
        or not policy.cacheable
        or policy.private
        or policy.max_age is None
    ):
        return
    tags = response_tags(document, request_data.operation_name, request_data.variables, result.data)
    tags.update(entity_tag(name, pk) for name, pk in context.shown_entities or ())
    await cache.put(key, orjson.dumps(result.data), operation_name_var.get(), tags, policy.max_age)
