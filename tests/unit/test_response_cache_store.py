"""The in-process response cache: bounded, expiring, dropped by tag; and the tags of a
response."""

from __future__ import annotations

from services.global_ids import global_id
from services.response_cache import (
    CachedResponse,
    MemoryResponseCache,
    changed_tags,
    response_key,
    response_tags,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_the_oldest_entry_goes_beyond_the_bound() -> None:
    cache = MemoryResponseCache(enabled=True, max_entries=2)
    for key in ("a", "b", "c"):
        await cache.put(key, key.encode(), None, [], ttl=60)
    assert len(cache) == 2
    assert await cache.get("a") is None
    cached = await cache.get("c")
    assert cached is not None
    assert cached.data == b"c"


async def test_an_entry_expires_with_its_ttl() -> None:
    clock = FakeClock()
    cache = MemoryResponseCache(enabled=True, max_entries=10, clock=clock)
    await cache.put("a", b"a", None, [], ttl=30)
    clock.now += 29.9
    assert await cache.get("a") is not None
    clock.now += 0.1
    assert await cache.get("a") is None


async def test_a_hit_says_how_long_it_has_left_and_which_operation_it_ran() -> None:
    clock = FakeClock()
    cache = MemoryResponseCache(enabled=True, max_entries=10, clock=clock)
    await cache.put("a", b'{"posts":[]}', "Feed", [], ttl=30)
    clock.now += 10.5
    assert await cache.get("a") == CachedResponse(b'{"posts":[]}', 20, "Feed")


async def test_an_invalidated_tag_drops_only_its_entries() -> None:
    cache = MemoryResponseCache(enabled=True, max_entries=10)
    await cache.put("post", b"1", None, ["UG9zdDox", "Query.post"], ttl=60)
    await cache.put("product", b"2", None, ["Query.product"], ttl=60)
    await cache.invalidate(["UG9zdDox"])
    assert await cache.get("post") is None
    assert await cache.get("product") is not None


def test_the_tags_are_the_ids_in_the_data_the_id_arguments_and_the_root_fields() -> None:
    post, author = global_id("Post", 1), global_id("User", 2)
    data = {"post": {"title": "t", "author": {"id": author}}, "posts": {"edges": []}}
    document = (
        "query($id: ID!) { post(id: $id) { title author { id } } posts { edges { cursor } } }"
    )
    assert response_tags(document, None, {"id": post}, data) == {
        post,
        author,
        "Query.post",
        "Query.posts",
    }


def test_a_change_drops_the_entity_and_every_list_page() -> None:
    tags = changed_tags("Post", [1])
    assert global_id("Post", 1) in tags
    assert "Query.posts" in tags
    assert "Query.products" in tags


def test_the_key_ignores_the_order_of_variables_but_not_the_media_type() -> None:
    document = "query($a: Int, $b: Int) { __typename }"
    one = response_key(document, None, {"a": 1, "b": 2}, "application/json")
    assert one == response_key(document, None, {"b": 2, "a": 1}, "application/json")
    assert one != response_key(
        document, None, {"a": 1, "b": 2}, "application/graphql-response+json"
    )
