"""Documents built to make the server work for minutes are refused at once, with one
QUERY_TOO_COMPLEX error (HTTP 400), before validation and execution: fragments that double at
every level, selection sets nested past what graphql-core's recursion allows, directives piled
on one field, one response key repeated at one place (graphql-core's overlapping-fields rule
compares every pair). Every walk over a document reads a fragment once, wherever it is spread. A
document that breaks a validation rule at every token answers a few errors and a count of the
rest.

Each request runs under ``deadline``, a hang detector: these requests once ran for minutes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.conftest import AppFactory, error_of, graphql
from tests.deadline import deadline
from tests.factories import create_post, create_user, gid
from tests.integration.test_error_handling import production_client

Spreads = Callable[[int], str]

# How fragment F<i> spreads F<i-1>: twice, so that F25 expands to 2^25 fields.
DOUBLING: dict[str, Spreads] = {
    "plain spreads": lambda i: f"...F{i - 1} ...F{i - 1}",
    "aliases": lambda i: f"a{i}: id ...F{i - 1} b{i}: title ...F{i - 1}",
    "nested inline fragments": lambda i: f"... on Post {{ ...F{i - 1} }} ... {{ ...F{i - 1} }}",
    "directives on spreads": lambda i: (
        f"...F{i - 1} @include(if: true) ...F{i - 1} @skip(if: false)"
    ),
}
# The variants use more aliases and directives than the defaults allow: lifted here, so that
# the expansion itself is what is refused.
LIFTED = {"query_max_aliases": 1000, "query_max_directives": 1000}


def doubling(spreads: Spreads, levels: int = 25) -> str:
    """The issue's document: ``posts { nodes { ...F25 } }``, F0 = ``id``, F<i> spreads F<i-1>."""
    fragments = ["fragment F0 on Post { id }"] + [
        f"fragment F{i} on Post {{ {spreads(i)} }}" for i in range(1, levels + 1)
    ]
    return f"query {{ posts(first: 1) {{ nodes {{ ...F{levels} }} }} }} {' '.join(fragments)}"


async def post_graphql(client: httpx.AsyncClient, query: str) -> httpx.Response:
    with deadline():
        return await graphql(client, query)


def refusal(response: httpx.Response, *parts: str) -> dict[str, Any]:
    """The one QUERY_TOO_COMPLEX error of a 400 answer, whose message has ``parts``."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert "data" not in body
    error = error_of(body)
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX", error
    for part in parts:
        assert part in error["message"], error["message"]
    return error


# --- fragments expanded ---------------------------------------------------------------------


async def test_the_issues_exploding_fragments_are_refused(client: httpx.AsyncClient):
    response = await post_graphql(client, doubling(DOUBLING["plain spreads"]))

    refusal(
        response,
        "Operation 'anonymous' selects 33554434 fields once its fragments are expanded",
        "the maximum is 500",
    )


@pytest.mark.parametrize("spreads", DOUBLING.values(), ids=DOUBLING.keys())
async def test_exploding_fragment_variants_are_refused(
    client_factory: AppFactory, spreads: Spreads
):
    response = await post_graphql(client_factory(**LIFTED), doubling(spreads))

    refusal(response, "fields once its fragments are expanded")


@pytest.mark.parametrize("spreads", DOUBLING.values(), ids=DOUBLING.keys())
async def test_every_walk_reads_a_fragment_once(client_factory: AppFactory, spreads: Spreads):
    """With the field limit lifted, the 2^25 fields run: validation, cost, prefetch and
    execution each read a fragment once."""
    post = await create_post(await create_user())
    client = client_factory(query_max_fields=10**9, **LIFTED)

    response = await post_graphql(client, doubling(spreads))

    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    [node] = body["data"]["posts"]["nodes"]
    assert node["id"] == gid("Post", post.id)


async def test_an_unused_exploding_fragment_is_refused(client: httpx.AsyncClient):
    query = doubling(DOUBLING["plain spreads"]).replace(
        "query { posts(first: 1) { nodes { ...F25 } } }", "query { __typename }"
    )

    response = await post_graphql(client, query)

    refusal(response, "Fragment 'F9' selects 512 fields once its fragments are expanded")


async def test_a_fragment_counts_again_at_every_spread(client_factory: AppFactory):
    client = client_factory(query_max_fields=5)
    fragment = "fragment P on Post { id title }"

    once = await post_graphql(client, f"{{ posts(first: 1) {{ nodes {{ ...P }} }} }} {fragment}")
    twice = await post_graphql(
        client, f"{{ posts(first: 1) {{ nodes {{ ...P ...P }} }} }} {fragment}"
    )

    assert once.status_code == 200, once.text
    refusal(twice, "selects 6 fields", "the maximum is 5")


async def test_cyclic_fragments_are_refused_by_validation(client: httpx.AsyncClient):
    query = (
        "{ posts(first: 1) { nodes { ...A } } } "
        "fragment A on Post { id ...B } fragment B on Post { title ...A }"
    )

    response = await post_graphql(client, query)

    assert response.status_code == 400
    codes = {error["extensions"]["code"] for error in response.json()["errors"]}
    assert codes == {"GRAPHQL_VALIDATION_FAILED"}


# --- one response key repeated at one place -------------------------------------------------


def repeated(count: int, selection: str = "author { id }") -> str:
    return "{ posts(first: 1) { nodes { " + f"{selection} " * count + "} } }"


async def test_a_key_repeated_past_the_limit_is_refused(client: httpx.AsyncClient):
    response = await post_graphql(client, repeated(240))

    refusal(response, "selects 'posts.nodes.author' 240 times", "the maximum is 50")


async def test_a_key_repeated_at_the_limit_is_answered(client: httpx.AsyncClient):
    await create_post(await create_user(name="Ada"))

    response = await post_graphql(client, repeated(50))

    assert response.status_code == 200, response.text
    assert response.json()["data"]["posts"]["nodes"][0]["author"]["id"]


async def test_repeats_are_refused_before_validation(client: httpx.AsyncClient):
    response = await post_graphql(client, repeated(51, "author { unknownField }"))

    refusal(response, "selects 'posts.nodes.author' 51 times")


async def test_repeats_count_below_fields_of_one_key_together(client: httpx.AsyncClient):
    """No selection set repeats a key more than 50 times, but the four ``author`` fields merge,
    and graphql-core compares the 200 ``posts`` below them pairwise."""
    posts = "posts(first: 1) { totalCount } " * 50
    query = "{ posts(first: 1) { nodes { " + f"author {{ {posts}}} " * 4 + "} } }"

    response = await post_graphql(client, query)

    refusal(response, "selects 'posts.nodes.author.posts' 200 times")


async def test_repeats_count_through_fragments(client_factory: AppFactory):
    client = client_factory(query_max_field_repeats=3)
    fragments = " ".join(f"fragment F{i} on Post {{ id }}" for i in range(3))
    spreads = "...F0 ...F1 ...F2"

    relay_style = await post_graphql(
        client, f"{{ posts(first: 1) {{ nodes {{ {spreads} }} }} }} {fragments}"
    )
    one_more = await post_graphql(
        client, f"{{ posts(first: 1) {{ nodes {{ id {spreads} }} }} }} {fragments}"
    )

    assert relay_style.status_code == 200, relay_style.text
    refusal(one_more, "selects 'posts.nodes.id' 4 times", "the maximum is 3")


async def test_repeats_of_an_unused_fragment_are_refused(client: httpx.AsyncClient):
    query = "{ __typename } fragment Unused on Post { " + "author { id } " * 51 + "}"

    response = await post_graphql(client, query)

    refusal(response, "Fragment 'Unused' selects 'author' 51 times")


# --- nesting --------------------------------------------------------------------------------


def chain(links: int) -> str:
    """``posts { nodes { ...F<links> } }`` where F<i> spreads F<i-1> and F0 selects the author:
    ``links + 5`` nested selection sets."""
    fragments = ["fragment F0 on Post { author { name } }"] + [
        f"fragment F{i} on Post {{ ...F{i - 1} }}" for i in range(1, links + 1)
    ]
    return f"{{ posts(first: 1) {{ nodes {{ ...F{links} }} }} }} {' '.join(fragments)}"


async def test_a_fragment_chain_at_graphql_cores_nesting_limit_is_answered(
    client: httpx.AsyncClient,
):
    author = await create_user(name="Ada")
    await create_post(author)

    response = await post_graphql(client, chain(195))

    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"posts": {"nodes": [{"author": {"name": "Ada"}}]}}


async def test_a_fragment_chain_nested_past_graphql_cores_limit_is_refused(
    client: httpx.AsyncClient,
):
    response = await post_graphql(client, chain(240))

    refusal(response, "nests 245 selection sets through its fragments", "the maximum is 200")


async def test_selections_nested_past_the_parsers_limit_are_refused(client: httpx.AsyncClient):
    levels = 201
    query = "{ " + "me { " * levels + "id" + " }" * levels + " }"

    response = await post_graphql(client, query)

    refusal(response, "more than 200 levels deep")


async def test_introspection_nested_too_deeply_is_refused(client: httpx.AsyncClient):
    query = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"

    response = await post_graphql(client, query)

    refusal(response, "Introspection nests", "3 levels deep", "the maximum is 2")


# --- directives -----------------------------------------------------------------------------


@pytest.mark.parametrize("count", [10, 60])
async def test_directives_piled_on_one_field_answer_one_error(
    client_factory: AppFactory, count: int
):
    client = production_client(client_factory)

    response = await post_graphql(client, "query { __typename " + "@aa" * count + " }")

    refusal(response, f"{count} directives on one field", "the maximum per location is 3")


async def test_directives_per_location_at_the_limit_are_allowed(client_factory: AppFactory):
    client = client_factory(query_max_directives_per_location=2)

    response = await post_graphql(client, "{ me @include(if: true) @skip(if: false) { id } }")

    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"me": None}


async def test_directives_over_the_document_limit_answer_one_error(client: httpx.AsyncClient):
    fields = " ".join(f"f{number}: __typename @aa" for number in range(21))

    response = await post_graphql(client, f"query {{ {fields} }}")

    refusal(response, "21 directives", "the maximum is 20")


# --- validation errors ----------------------------------------------------------------------


def unknown_fields(count: int) -> str:
    return "{ " + " ".join(f"unknown{number}" for number in range(count)) + " }"


def messages(response: httpx.Response) -> list[str]:
    assert response.status_code == 400, response.text
    errors = response.json()["errors"]
    assert {error["extensions"]["code"] for error in errors} == {"GRAPHQL_VALIDATION_FAILED"}
    return [error["message"] for error in errors]


async def test_five_validation_errors_are_all_reported(client: httpx.AsyncClient):
    response = await post_graphql(client, unknown_fields(5))

    assert len(messages(response)) == 5


async def test_validation_errors_past_five_are_counted_in_one_last_error(
    client: httpx.AsyncClient,
):
    response = await post_graphql(client, unknown_fields(14))

    found = messages(response)
    assert found[:5] == [f"Cannot query field 'unknown{n}' on type 'Query'." for n in range(5)]
    assert found[5] == "And 9 more validation errors: only the first 5 are reported."
    assert len(found) == 6


async def test_validation_errors_past_graphql_cores_maximum_are_counted_as_at_least(
    client: httpx.AsyncClient,
):
    response = await post_graphql(client, unknown_fields(150))

    found = messages(response)
    assert len(found) == 6
    assert found[5] == "And at least 96 more validation errors: only the first 5 are reported."
