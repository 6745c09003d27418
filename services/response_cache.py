"""The server-side response cache: the ``data`` of an anonymous query whose cache policy is
PUBLIC, kept for its maxAge and served again without executing (GraphQL Yoga's
``useResponseCache``, Apollo's response-cache plugin).

Key: (document hash, operation name, canonical variables JSON, response media type). Each entry
carries tags: ``Type:<global id>`` for every object in the data with an ``id``, the global id of a
root field's ``id`` argument (``post(id: …)``), and ``Query.<field>`` for every root field.
``resolvers.invalidation`` (the one place that says "entity X changed") drops the entries tagged
with a changed entity, and every list root field's entries (a list page may show the entity
without selecting its ``id``: ``author { name }``).

In-process: an LRU of at most ``RESPONSE_CACHE_MAX_ENTRIES`` with a tag index. With
``REDIS_URL``: each entry under its key with its TTL, a Redis set per tag naming the entries, so
an invalidation on one replica drops them for all. A store fault is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from graphql import FieldNode, OperationDefinitionNode, StringValueNode, VariableNode, parse
from graphql.error import GraphQLError
from redis.asyncio import Redis

from core.faults import dependency_failed, fault_text
from core.settings import Settings
from services.global_ids import global_id

logger = logging.getLogger(__name__)

# The root fields answering lists: any entity change drops their cached pages.
LIST_ROOT_FIELDS = ("posts", "products", "users", "topCustomers")
LIST_TAGS = tuple(f"Query.{name}" for name in LIST_ROOT_FIELDS)
# A root field spread from a fragment is not named here: such responses get this tag, which
# every change drops.
ANY_ROOT_TAG = "Query.*"


def response_key(
    document: str, operation_name: str | None, variables: Mapping[str, Any] | None, media: str
) -> str:
    digest = hashlib.sha256(document.encode())
    digest.update(b"\0" + (operation_name or "").encode() + b"\0" + media.encode() + b"\0")
    digest.update(orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS))
    return digest.hexdigest()


def entity_tag(type_name: str, pk: int | str) -> str:
    return global_id(type_name, pk)


def _ids(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        identifier = value.get("id")
        if isinstance(identifier, str):
            yield identifier
        for item in value.values():
            yield from _ids(item)
    elif isinstance(value, list):
        for item in value:
            yield from _ids(item)


def _root_tags(document: str, operation_name: str | None, variables: Mapping[str, Any]) -> set[str]:
    try:
        parsed = parse(document)
    except GraphQLError:
        return {ANY_ROOT_TAG}
    tags: set[str] = set()
    for definition in parsed.definitions:
        if not isinstance(definition, OperationDefinitionNode) or (
            operation_name and (definition.name is None or definition.name.value != operation_name)
        ):
            continue
        for selection in definition.selection_set.selections:
            if not isinstance(selection, FieldNode):
                tags.add(ANY_ROOT_TAG)
                continue
            tags.add(f"Query.{selection.name.value}")
            for argument in selection.arguments or ():
                if argument.name.value != "id":
                    continue
                if isinstance(argument.value, StringValueNode):
                    tags.add(argument.value.value)
                elif isinstance(argument.value, VariableNode):
                    value = variables.get(argument.value.name.value)
                    if isinstance(value, str):
                        tags.add(value)
    return tags


def response_tags(
    document: str, operation_name: str | None, variables: Mapping[str, Any] | None, data: object
) -> set[str]:
    return set(_ids(data)) | _root_tags(document, operation_name, variables or {})


def changed_tags(type_name: str, pks: Iterable[int | str]) -> list[str]:
    """What a change of these entities drops: their own tags and every list page."""
    return [entity_tag(type_name, pk) for pk in set(pks)] + [*LIST_TAGS, ANY_ROOT_TAG]


@dataclass(frozen=True, slots=True)
class CachedResponse:
    """A stored answer: the JSON of its ``data`` (served as it is, never decoded), its remaining
    lifetime in whole seconds (the ``max-age`` of a hit) and the operation it ran (the access
    log's ``operationName``)."""

    data: bytes
    max_age: int
    operation_name: str | None


def encode_entry(data: bytes, expires: float, operation_name: str | None) -> bytes:
    # A GraphQL name has no newline: "<expires>\n<operation name>\n<data JSON>".
    return f"{expires!r}\n{operation_name or ''}\n".encode() + data


def decode_entry(raw: bytes, now: float) -> CachedResponse | None:
    """The entry ``raw`` as of ``now``; None once expired (or unreadable)."""
    try:
        expires_text, name, data = raw.split(b"\n", 2)
        remaining = math.ceil(float(expires_text) - now)
    except ValueError:
        return None
    if remaining <= 0:
        return None
    return CachedResponse(data, remaining, name.decode() or None)


class ResponseCache(Protocol):
    enabled: bool
    # Seconds, injectable so that tests move time instead of sleeping.
    clock: Callable[[], float]

    async def get(self, key: str) -> CachedResponse | None: ...
    async def put(
        self, key: str, data: bytes, operation_name: str | None, tags: Iterable[str], ttl: int
    ) -> None: ...
    async def invalidate(self, tags: Iterable[str]) -> None: ...
    async def clear(self) -> None: ...


class MemoryResponseCache:
    """An LRU with a TTL per entry and a tag → keys index."""

    def __init__(
        self, enabled: bool, max_entries: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.enabled = enabled
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[str, tuple[bytes, frozenset[str]]] = OrderedDict()
        self._tagged: dict[str, set[str]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: str) -> CachedResponse | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        cached = decode_entry(entry[0], self.clock())
        if cached is None:
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return cached

    async def put(
        self, key: str, data: bytes, operation_name: str | None, tags: Iterable[str], ttl: int
    ) -> None:
        self._drop(key)
        tag_set = frozenset(tags)
        self._entries[key] = (encode_entry(data, self.clock() + ttl, operation_name), tag_set)
        for tag in tag_set:
            self._tagged.setdefault(tag, set()).add(key)
        while len(self._entries) > self.max_entries:
            self._drop(next(iter(self._entries)))

    async def invalidate(self, tags: Iterable[str]) -> None:
        for tag in tags:
            for key in self._tagged.pop(tag, set()):
                self._drop(key)

    async def clear(self) -> None:
        self._entries.clear()
        self._tagged.clear()

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        for tag in entry[1]:
            keys = self._tagged.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._tagged[tag]


class RedisResponseCache:
    """Entries expire by their TTL in Redis (at most ``HTTP_CACHE_MAX_AGE_SECONDS``); a tag's set
    lives as long as the longest entry put under it. A sorted set of the entries by the time
    they were stored bounds them to ``max_entries``: each put beyond it drops the oldest."""

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        enabled: bool,
        max_entries: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.enabled = enabled
        self.max_entries = max_entries
        # Wall-clock time: the expiry stored in an entry is read by every replica.
        self.clock = clock
        self._index = f"{prefix}entries"

    async def get(self, key: str) -> CachedResponse | None:
        try:
            value = await self.redis.get(f"{self.prefix}r:{key}")
        except Exception as exc:  # noqa: BLE001 - a store fault is a miss, never an error
            dependency_failed(
                logger, "cache", "get", "response cache lookup failed: %s", fault_text(exc)
            )
            return None
        return decode_entry(bytes(value), self.clock()) if value is not None else None

    async def put(
        self, key: str, data: bytes, operation_name: str | None, tags: Iterable[str], ttl: int
    ) -> None:
        entry = f"{self.prefix}r:{key}"
        now = self.clock()
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.set(entry, encode_entry(data, now + ttl, operation_name), ex=ttl)
                for tag in tags:
                    pipe.sadd(f"{self.prefix}t:{tag}", entry)
                    pipe.expire(f"{self.prefix}t:{tag}", ttl, gt=True)
                    pipe.expire(f"{self.prefix}t:{tag}", ttl, nx=True)
                pipe.zadd(self._index, {entry: now})
                pipe.zcard(self._index)
                *_, size = await pipe.execute()
            if size > self.max_entries:
                oldest = await self.redis.zpopmin(self._index, size - self.max_entries)
                if oldest:
                    await self.redis.delete(*(name for name, _ in oldest))
        except Exception as exc:  # noqa: BLE001 - not cached: the next request executes
            dependency_failed(
                logger, "cache", "set", "response cache store failed: %s", fault_text(exc)
            )

    async def invalidate(self, tags: Iterable[str]) -> None:
        tag_keys = [f"{self.prefix}t:{tag}" for tag in tags]
        if not tag_keys:
            return
        try:
            # Two round trips whatever the number of tags (a write changes six or more).
            async with self.redis.pipeline(transaction=False) as pipe:
                for tag_key in tag_keys:
                    pipe.smembers(tag_key)
                members: list[set[bytes]] = await pipe.execute()
            entries = set().union(*members)
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.delete(*tag_keys, *entries)
                if entries:
                    pipe.zrem(self._index, *entries)
                await pipe.execute()
        except Exception as exc:  # noqa: BLE001 - entries then live until their TTL
            dependency_failed(
                logger, "cache", "delete", "response cache invalidation: %s", fault_text(exc)
            )

    async def clear(self) -> None:
        try:
            batch: list[bytes] = []
            async for name in self.redis.scan_iter(match=f"{self.prefix}*", count=1000):
                batch.append(name)
                if len(batch) >= 1000:
                    await self.redis.delete(*batch)
                    batch.clear()
            if batch:
                await self.redis.delete(*batch)
        except Exception as exc:  # noqa: BLE001 - entries then live until their TTL
            dependency_failed(
                logger, "cache", "delete", "response cache clear: %s", fault_text(exc)
            )


def build_response_cache(settings: Settings, redis: Redis | None, prefix: str) -> ResponseCache:
    if redis is not None:
        return RedisResponseCache(
            redis, prefix, settings.response_cache_enabled, settings.response_cache_max_entries
        )
    return MemoryResponseCache(settings.response_cache_enabled, settings.response_cache_max_entries)
