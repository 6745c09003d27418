"""HTTP caching of GET queries (README, "HTTP caching of GET queries"): Cache-Control from the
@cacheControl hints of what the query selects, a strong ETag, Vary and 304 on If-None-Match;
no-store for POST, mutations, errors and refusals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from core.shortcuts import use_library_shortcuts
from tests import factories
from tests.conftest import AppFactory, graphql, make_settings
from vocabulary.cache_hints import CATALOGUE_MAX_AGE, FEED_MAX_AGE, PROFILE_MAX_AGE, STOCK_MAX_AGE

FEED = "{ posts(first: 10) { edges { node { title author { name } } } pageInfo { hasNextPage } } }"
CATALOGUE = "{ products(first: 10) { nodes { name price } } }"
VARY = {"accept", "authorization", "accept-encoding"}


async def get(
    client: httpx.AsyncClient,
    query: str,
    variables: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    params = {"query": query} if variables is None else {"query": query, "variables": variables}
    return await client.get(
        "/graphql", params=params, headers={"Accept-Encoding": "identity", **(headers or {})}
    )


def vary(response: httpx.Response) -> set[str]:
    return {name.strip().lower() for name in response.headers.get("vary", "").split(",")}


@pytest.fixture
async def feed(db: None) -> None:
    author = await factories.create_user(name="Ada")
    for _ in range(3):
        await factories.create_post(author)


async def test_a_public_get_query_is_public_with_its_max_age_an_etag_and_vary(
    client: httpx.AsyncClient, feed: None
) -> None:
    response = await get(client, FEED)
    assert response.status_code == 200
    assert response.headers["cache-control"] == f"public, max-age={FEED_MAX_AGE}"
    assert response.headers["etag"].startswith('"')
    assert vary(response) >= VARY
    assert "cookie" not in vary(response)


async def test_the_max_age_is_the_lowest_of_the_selected_fields(
    client: httpx.AsyncClient, db: None
) -> None:
    catalogue = await get(client, CATALOGUE)
    with_stock = await get(client, "{ products(first: 10) { nodes { name stock } } }")
    assert catalogue.headers["cache-control"] == f"public, max-age={CATALOGUE_MAX_AGE}"
    assert with_stock.headers["cache-control"] == f"public, max-age={STOCK_MAX_AGE}"


async def test_a_repeated_query_over_unchanged_data_has_the_same_etag(
    client: httpx.AsyncClient, feed: None
) -> None:
    first, second = await get(client, FEED), await get(client, FEED)
    assert first.headers["etag"] == second.headers["etag"]
    assert first.content == second.content


async def test_changed_data_gets_another_etag(client: httpx.AsyncClient, feed: None) -> None:
    before = await get(client, FEED)
    await factories.create_post(await factories.create_user())
    after = await get(client, FEED)
    assert after.headers["etag"] != before.headers["etag"]


async def test_a_cacheable_body_carries_no_request_id_nor_cost_budget(
    client: httpx.AsyncClient, feed: None
) -> None:
    response = await get(client, FEED)
    assert set(response.json()) == {"data"}
    assert response.headers["x-request-id"]


async def test_each_negotiated_media_type_has_its_own_etag(
    client: httpx.AsyncClient, feed: None
) -> None:
    modern = await get(client, FEED, headers={"Accept": "application/graphql-response+json"})
    legacy = await get(client, FEED, headers={"Accept": "application/json"})
    assert modern.content == legacy.content
    assert modern.headers["etag"] != legacy.headers["etag"]
    crossed = await get(
        client,
        FEED,
        headers={"Accept": "application/json", "If-None-Match": modern.headers["etag"]},
    )
    assert crossed.status_code == 200


async def test_if_none_match_with_the_etag_answers_304_without_a_body(
    client: httpx.AsyncClient, feed: None
) -> None:
    etag = (await get(client, FEED)).headers["etag"]
    response = await get(client, FEED, headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert response.headers["cache-control"] == f"public, max-age={FEED_MAX_AGE}"
    assert vary(response) >= VARY


async def test_if_none_match_among_other_tags_or_weak_answers_304(
    client: httpx.AsyncClient, feed: None
) -> None:
    etag = (await get(client, FEED)).headers["etag"]
    listed = await get(client, FEED, headers={"If-None-Match": f'"stale", {etag}'})
    weak = await get(client, FEED, headers={"If-None-Match": f"W/{etag}"})
    assert (listed.status_code, weak.status_code) == (304, 304)


async def test_if_none_match_with_an_old_etag_answers_the_new_body(
    client: httpx.AsyncClient, feed: None
) -> None:
    old = (await get(client, FEED)).headers["etag"]
    await factories.create_post(await factories.create_user())
    response = await get(client, FEED, headers={"If-None-Match": old})
    assert response.status_code == 200
    assert response.headers["etag"] != old
    assert len(response.json()["data"]["posts"]["edges"]) == 4


async def test_an_authenticated_get_is_private(client: httpx.AsyncClient, feed: None) -> None:
    viewer = await factories.create_user()
    response = await get(client, FEED, headers=factories.bearer(client, viewer))
    assert response.headers["cache-control"] == f"private, max-age={FEED_MAX_AGE}"
    assert "authorization" in vary(response)


async def test_a_viewer_field_makes_an_anonymous_get_private(
    client: httpx.AsyncClient, db: None
) -> None:
    user = await factories.create_user()
    query = "query($id: ID!) { user(id: $id) { name email } }"
    variables = f'{{"id": "{factories.gid("User", user.id)}"}}'
    response = await get(client, query, variables)
    assert response.json()["data"]["user"] == {"name": user.name, "email": None}
    assert response.headers["cache-control"] == f"private, max-age={PROFILE_MAX_AGE}"


async def test_me_is_private_even_for_an_anonymous_caller(
    client: httpx.AsyncClient, db: None
) -> None:
    response = await get(client, "{ me { name } }")
    assert response.json()["data"] == {"me": None}
    assert response.headers["cache-control"].startswith("private, ")


async def test_the_viewers_money_and_orders_are_never_cached(
    client: httpx.AsyncClient, db: None
) -> None:
    viewer = await factories.create_user(balance_cents=500)
    headers = factories.bearer(client, viewer)
    balance = await get(client, "{ me { name balance } }", headers=headers)
    orders = await get(client, "{ orders(first: 5) { totalCount } }", headers=headers)
    assert balance.json()["data"]["me"]["balance"] == "5.00"
    assert (balance.headers["cache-control"], orders.headers["cache-control"]) == (
        "no-store",
        "no-store",
    )
    assert "etag" not in balance.headers


async def test_a_get_query_with_an_error_is_no_store(client: httpx.AsyncClient, db: None) -> None:
    response = await get(client, '{ post(id: "not-an-id") { title } }')
    assert response.status_code == 200
    assert response.json()["errors"]
    assert response.headers["cache-control"] == "no-store"
    assert "etag" not in response.headers


async def test_a_get_request_error_is_no_store(client: httpx.AsyncClient, db: None) -> None:
    response = await get(client, "{ nope }")
    assert response.status_code == 400
    assert response.headers["cache-control"] == "no-store"


async def test_a_post_query_is_no_store(client: httpx.AsyncClient, feed: None) -> None:
    response = await graphql(client, FEED)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "etag" not in response.headers
    assert response.json()["extensions"]["requestId"] == response.headers["x-request-id"]


async def test_a_mutation_is_never_cached(client: httpx.AsyncClient, db: None) -> None:
    viewer = await factories.create_user()
    headers = factories.bearer(client, viewer)
    mutation = 'mutation { createPost(input: {title: "T", body: "B"}) { id title } }'
    posted = await graphql(client, mutation, headers=headers)
    over_get = await get(client, mutation, headers=headers)
    assert posted.json()["data"]["createPost"]["title"] == "T"
    assert posted.headers["cache-control"] == "no-store"
    assert (over_get.status_code, over_get.headers["cache-control"]) == (405, "no-store")


async def test_introspection_over_get_is_no_store(client: httpx.AsyncClient, db: None) -> None:
    response = await get(client, "{ __schema { queryType { name } } }")
    assert response.headers["cache-control"] == "no-store"


async def test_the_max_age_setting_lowers_every_max_age(
    client_factory: AppFactory, feed: None
) -> None:
    capped = client_factory(http_cache_max_age_seconds=5)
    response = await get(capped, FEED)
    assert response.headers["cache-control"] == "public, max-age=5"


async def test_a_max_age_setting_of_zero_turns_http_caching_off(
    client_factory: AppFactory, feed: None
) -> None:
    off = client_factory(http_cache_max_age_seconds=0)
    response = await get(off, FEED)
    assert response.headers["cache-control"] == "no-store"
    assert "requestId" in response.json()["extensions"]


# --- compression ---------------------------------------------------------------------------


@pytest.fixture
async def long_feed(db: None) -> None:
    """A feed whose answer is over the 1 KB the gzip middleware starts at."""
    author = await factories.create_user()
    for index in range(10):
        title = f"A title long enough to pass the gzip threshold, number {index:03}"
        await factories.create_post(author, title=title)


async def test_a_gzip_encoded_body_has_its_own_etag(
    client: httpx.AsyncClient, long_feed: None
) -> None:
    plain = await get(client, FEED)
    encoded = await get(client, FEED, headers={"Accept-Encoding": "gzip"})
    assert len(plain.content) > 1024
    assert encoded.headers["content-encoding"] == "gzip"
    assert encoded.content == plain.content  # httpx decoded it
    assert encoded.headers["etag"] == plain.headers["etag"][:-1] + '-gzip"'
    assert [name.strip() for name in encoded.headers["vary"].split(",")].count(
        "Accept-Encoding"
    ) == 1


async def test_if_none_match_with_the_gzip_etag_answers_304_with_it(
    client: httpx.AsyncClient, long_feed: None
) -> None:
    gzip = {"Accept-Encoding": "gzip"}
    etag = (await get(client, FEED, headers=gzip)).headers["etag"]
    response = await get(client, FEED, headers={**gzip, "If-None-Match": etag})
    assert response.status_code == 304
    assert response.headers["etag"] == etag


# --- LIBRARY_SHORTCUTS ----------------------------------------------------------------------


@pytest.fixture
def shortcuts_restored() -> Iterator[None]:
    """Building an app sets the process-wide half of the switch; put back the session's."""
    yield
    use_library_shortcuts(make_settings().library_shortcuts)


async def test_the_headers_are_the_same_without_the_library_shortcuts(
    client_factory: AppFactory, feed: None, shortcuts_restored: None
) -> None:
    queries = [FEED, CATALOGUE, "{ me { name } }", "{ posts(first: 2) { totalCount } }"]

    async def headers(shortcuts: bool) -> list[dict[str, Any]]:
        client = client_factory(library_shortcuts=shortcuts)
        responses = [await get(client, query) for query in queries]
        return [
            {name: response.headers.get(name) for name in ("cache-control", "etag", "vary")}
            for response in responses
        ]

    with_shortcuts = await headers(True)
    assert with_shortcuts == await headers(False)
    assert all(entry["etag"] for entry in with_shortcuts)
