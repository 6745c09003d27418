"""The one hook that says "these entities changed", called after the commit by whoever wrote
them: the mutations' resolvers (``resolvers/invalidation.py``, which also clears the
request's loaders), jobs (``JobContext.changes``) and the ``seed`` command. It drops what the
process's shared caches hold of them: the model cache (users and products by id, the product
pages) and the response cache (the entries tagged with the entities, and every list page).

The container builds one per process (``server/container.py``); the job worker and the CLI
build their own over the same stores (with ``REDIS_URL`` the same Redis keys, so a write made
there drops what every API replica cached).
"""

from __future__ import annotations

from collections.abc import Iterable

from redis.asyncio import Redis

from core.settings import Settings
from services.cache import ModelCache
from services.response_cache import ResponseCache, build_response_cache, changed_tags

# Where the process's shared state lives in Redis: ``agora:cache:``, ``agora:responses:``…
DEFAULT_KEY_PREFIX = "agora:"


class EntityChanges:
    def __init__(self, cache: ModelCache, responses: ResponseCache) -> None:
        self.cache = cache
        self.responses = responses

    async def changed(self, type_name: str, ids: Iterable[int]) -> None:
        """Entities of the GraphQL type ``type_name`` (``Post``, ``User``…) changed."""
        pks = list(ids)
        if self.responses.enabled:
            await self.responses.invalidate(changed_tags(type_name, pks))
        if type_name == "User":
            await self.cache.forget("users", pks)
        elif type_name == "Product":
            await self.cache.forget("products", pks)
            await self.cache.bump_version("product_pages")

    async def comments_changed(self, comment_ids: Iterable[int], post_ids: Iterable[int]) -> None:
        """A comment changes its post too (``commentCount``, ``comments``)."""
        await self.changed("Comment", comment_ids)
        await self.changed("Post", post_ids)

    async def everything_changed(self) -> None:
        """Rows changed in bulk (``seed``): every cached response and product page goes (users
        and products cached by id expire with their TTL: a bulk insert changes none of them)."""
        await self.responses.clear()
        await self.cache.bump_version("product_pages")


def build_entity_changes(settings: Settings, redis: Redis | None, key_prefix: str) -> EntityChanges:
    """The hook over the process's caches, under the container's key prefixes (``agora:``)."""
    return EntityChanges(
        ModelCache.from_settings(settings, namespace=f"{key_prefix}cache:"),
        build_response_cache(settings, redis, prefix=f"{key_prefix}responses:"),
    )
