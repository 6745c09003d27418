"""CostAnalysis over a small dedicated schema, so every rule of ``schema.cost`` is priced by
hand here: scalars 0, objects 1, connections multiply the lists below them by first/last
(default 20, 0..100), mutations 10, ``@cost`` weights, ``@listSize`` sizes (assumed, or a
``limit`` argument), and the actual cost counts what really came back."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from graphql import (
    FragmentDefinitionNode,
    get_operation_ast,
    parse,
    validate,
)

from schema.cost import INTROSPECTION_COST, MAX_PAGE_SIZE, MUTATION_COST, CostAnalysis, page_size
from services.errors import BadUserInput, ErrorCode
from services.pagination import DEFAULT_PAGE_SIZE
from vocabulary.directives import connection_size, cost, limit_size, list_size

# --- the test schema ---------------------------------------------------------------------


@strawberry.interface
class Entity:
    id: strawberry.ID


@strawberry.type
class Author(Entity):
    name: str


@strawberry.type
class Tag:
    label: str


@strawberry.type
class Comment:
    body: str
    author: Author | None


@strawberry.type
class CommentConnection:
    nodes: list[Comment]
    total_count: int


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


AUTHORS = {"a1": Author(id=strawberry.ID("a1"), name="Ada")}


@strawberry.type
class Post(Entity):
    title: str
    author_id: strawberry.Private[str | None]

    @strawberry.field
    def author(self) -> Author | None:
        return AUTHORS.get(self.author_id) if self.author_id else None

    @strawberry.field(directives=[cost(2), list_size(assumed_size=5)])
    def tags(self) -> list[Tag]:
        return [Tag(label="a"), Tag(label="b")]

    @strawberry.field
    def related(self) -> list[Post]:
        return []

    @strawberry.field(directives=[cost(3)])
    def score(self) -> int:
        return 42

    @strawberry.field(directives=[connection_size()])
    def comments(self, first: int | None = None, last: int | None = None) -> CommentConnection:
        items = [Comment(body="hi", author=AUTHORS["a1"])]
        return CommentConnection(nodes=items, total_count=len(items))


@strawberry.type
class PostEdge:
    cursor: str
    node: Post


@strawberry.type
class PostConnection:
    edges: list[PostEdge]
    nodes: list[Post]
    page_info: PageInfo
    total_count: int


# Three posts exist; the second has no author.
POSTS = [
    Post(id=strawberry.ID("p1"), title="One", author_id="a1"),
    Post(id=strawberry.ID("p2"), title="Two", author_id=None),
    Post(id=strawberry.ID("p3"), title="Three", author_id="a1"),
]


def connection(first: int | None, last: int | None) -> PostConnection:
    items = POSTS
    if first is not None:
        items = items[:first]
    if last is not None:
        items = items[-last:] if last else []
    return PostConnection(
        edges=[PostEdge(cursor=post.id, node=post) for post in items],
        nodes=items,
        page_info=PageInfo(has_next_page=False, end_cursor=None),
        total_count=len(POSTS),
    )


@strawberry.type
class Query:
    @strawberry.field(directives=[connection_size()])
    def posts(self, first: int | None = None, last: int | None = None) -> PostConnection:
        return connection(first, last)

    @strawberry.field(directives=[cost(5), connection_size()])
    def search(self, first: int | None = None, last: int | None = None) -> PostConnection:
        return connection(first, last)

    @strawberry.field
    def post(self, id: strawberry.ID) -> Post | None:
        return next((post for post in POSTS if post.id == id), None)

    @strawberry.field
    def entity(self, id: strawberry.ID) -> Entity | None:
        return next((post for post in POSTS if post.id == id), None) or AUTHORS.get(id)

    @strawberry.field(directives=[cost(1), list_size(assumed_size=4)])
    def tags(self) -> list[Tag]:
        return [Tag(label="x")]

    @strawberry.field(directives=[limit_size(3)])
    def top_tags(self, limit: int | None = 3) -> list[Tag]:
        return [Tag(label="x")]

    @strawberry.field
    def version(self) -> str:
        return "1"


@strawberry.type
class Mutation:
    @strawberry.mutation
    def add_post(self, title: str) -> Post:
        return Post(id=strawberry.ID("p9"), title=title, author_id="a1")

    @strawberry.mutation
    def delete_post(self, id: strawberry.ID) -> Post | None:
        return None

    @strawberry.mutation(directives=[cost(3)])
    def ping(self) -> bool:
        return True


SCHEMA = strawberry.Schema(query=Query, mutation=Mutation, types=[Author, Post])


def analyse(
    query: str, variables: dict[str, Any] | None = None, operation_name: str | None = None
) -> CostAnalysis:
    document = parse(query)
    errors = validate(SCHEMA._schema, document)
    assert not errors, errors
    operation = get_operation_ast(document, operation_name)
    assert operation is not None
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    return CostAnalysis(SCHEMA._schema, operation, fragments, variables or {})


def requested(query: str, variables: dict[str, Any] | None = None) -> int:
    return analyse(query, variables).requested()


def actual(query: str, variables: dict[str, Any] | None = None) -> int:
    result = SCHEMA.execute_sync(query, variable_values=variables)
    assert result.errors is None, result.errors
    return analyse(query, variables).actual(result.data)


# --- base weights -----------------------------------------------------------------------


def test_scalar_root_field_costs_nothing():
    assert requested("{ version }") == 0


def test_object_costs_one_and_its_scalars_nothing():
    assert requested('{ post(id: "p1") { id title } }') == 1


def test_each_nested_object_costs_one():
    assert requested('{ post(id: "p1") { title author { name } } }') == 2


def test_typename_costs_nothing():
    assert requested('{ __typename post(id: "p1") { __typename } }') == 1


def test_introspection_costs_a_flat_amount():
    assert requested("{ __schema { types { name fields { name } } } }") == INTROSPECTION_COST
    assert requested('{ __type(name: "Post") { name } }') == INTROSPECTION_COST


# --- connections --------------------------------------------------------------------------


def test_connection_multiplies_edges_by_first():
    # posts 1 + 10 edges x (edge 1 + node 1)
    assert requested("{ posts(first: 10) { edges { node { title } } } }") == 1 + 10 * 2


def test_connection_multiplies_nodes_by_first():
    assert requested("{ posts(first: 10) { nodes { title } } }") == 1 + 10 * 1


def test_connection_multiplies_by_last():
    assert requested("{ posts(last: 7) { edges { node { title } } } }") == 1 + 7 * 2


def test_connection_without_first_or_last_assumes_twenty():
    assert DEFAULT_PAGE_SIZE == 20
    assert requested("{ posts { nodes { title } } }") == 1 + 20


def test_connection_with_first_and_last_uses_the_larger():
    assert requested("{ posts(first: 3, last: 8) { nodes { title } } }") == 1 + 8


def test_page_info_and_total_count_are_not_multiplied():
    assert requested("{ posts(first: 50) { totalCount pageInfo { hasNextPage } } }") == 2


def test_first_zero_prices_an_empty_page():
    assert requested("{ posts(first: 0) { nodes { title } } }") == 1


def test_first_at_the_maximum_is_allowed():
    assert MAX_PAGE_SIZE == 100
    assert requested("{ posts(first: 100) { nodes { title } } }") == 1 + 100


@pytest.mark.parametrize(
    ("argument", "value"), [("first", 101), ("first", 500), ("first", -1), ("last", 101)]
)
def test_page_size_out_of_range_is_bad_user_input(argument, value):
    with pytest.raises(BadUserInput) as raised:
        requested(f"{{ posts({argument}: {value}) {{ nodes {{ title }} }} }}")
    assert raised.value.code is ErrorCode.BAD_USER_INPUT
    assert raised.value.extensions["argument"] == argument
    assert str(value) in raised.value.message
    assert "100" in raised.value.message


def test_page_size_helper():
    assert page_size({}) == DEFAULT_PAGE_SIZE
    assert page_size({"first": None, "last": None}) == DEFAULT_PAGE_SIZE
    assert page_size({"first": 5}) == 5
    assert page_size({"last": 0}) == 0
    with pytest.raises(BadUserInput):
        page_size({"first": -5})


def test_nested_connection_multiplies_within_the_outer_page():
    # posts 1 + 2 edges x (edge 1 + node 1 + author 1 + comments (1 + 5 nodes x 1))
    query = """{ posts(first: 2) { edges { node { author { name }
        comments(first: 5) { nodes { body } } } } } }"""
    assert requested(query) == 1 + 2 * (1 + 1 + 1 + (1 + 5 * 1))


# --- variables ----------------------------------------------------------------------------


def test_first_from_a_variable():
    query = "query($n: Int) { posts(first: $n) { nodes { title } } }"
    assert requested(query, {"n": 5}) == 1 + 5


def test_first_from_a_variable_out_of_range_is_bad_user_input():
    query = "query($n: Int) { posts(first: $n) { nodes { title } } }"
    with pytest.raises(BadUserInput):
        requested(query, {"n": 500})


def test_first_from_a_null_variable_uses_the_default():
    query = "query($n: Int) { posts(first: $n) { nodes { title } } }"
    assert requested(query, {"n": None}) == 1 + DEFAULT_PAGE_SIZE


def test_first_from_an_omitted_optional_variable_uses_the_default():
    query = "query($n: Int) { posts(first: $n) { nodes { title } } }"
    assert requested(query, {}) == 1 + DEFAULT_PAGE_SIZE


def test_first_from_a_variable_default():
    query = "query($n: Int = 3) { posts(first: $n) { nodes { title } } }"
    assert requested(query, {}) == 1 + 3
    assert requested(query, {"n": 7}) == 1 + 7


# --- fragments ----------------------------------------------------------------------------


def test_named_fragment_is_counted():
    query = """
        { posts(first: 10) { edges { node { ...PostFields } } } }
        fragment PostFields on Post { title author { name } }
    """
    assert requested(query) == 1 + 10 * (1 + 1 + 1)


def test_fragment_on_the_connection_keeps_the_page_size():
    query = """
        { posts(first: 10) { ...Page } }
        fragment Page on PostConnection { nodes { title } }
    """
    assert requested(query) == 1 + 10


def test_inline_fragments_are_counted_against_their_type():
    query = '{ entity(id: "p1") { id ... on Post { author { name } } ... on Author { name } } }'
    assert requested(query) == 1 + 1


def test_inline_fragment_without_type_condition_is_counted():
    assert requested('{ post(id: "p1") { ... { author { name } } } }') == 2


# --- mutations ----------------------------------------------------------------------------


def test_mutation_root_field_costs_ten():
    assert requested('mutation { addPost(title: "x") { title } }') == MUTATION_COST == 10


def test_each_mutation_root_field_costs_ten_and_its_selection_as_a_query():
    query = 'mutation { addPost(title: "x") { author { name } } deletePost(id: "p1") { id } }'
    assert requested(query) == (10 + 1) + 10


def test_mutation_root_field_with_declared_cost_uses_it():
    assert requested("mutation { ping }") == 3


def test_only_the_selected_operation_is_priced():
    document = """
        query Cheap { version }
        mutation Dear { addPost(title: "x") { title } }
    """
    assert analyse(document, operation_name="Cheap").requested() == 0
    assert analyse(document, operation_name="Dear").requested() == 10


# --- @cost --------------------------------------------------------------------------------


def test_declared_weight_overrides_on_a_scalar():
    assert requested('{ post(id: "p1") { score } }') == 1 + 3


def test_declared_weight_overrides_on_a_connection():
    assert requested("{ search(first: 10) { nodes { title } } }") == 5 + 10


def test_assumed_size_multiplies_a_plain_list():
    # post 1 + 5 assumed tags x weight 2
    assert requested('{ post(id: "p1") { tags { label } } }') == 1 + 5 * 2


def test_assumed_size_on_a_root_list():
    assert requested("{ tags { label } }") == 4 * 1


def test_assumed_size_multiplies_within_a_page():
    assert requested("{ posts(first: 10) { nodes { tags { label } } } }") == 1 + 10 * (1 + 5 * 2)


def test_a_list_sized_by_its_limit_argument_multiplies_by_it():
    assert requested("{ topTags(limit: 7) { label } }") == 7
    assert requested("query($n: Int) { topTags(limit: $n) { label } }", {"n": 9}) == 9


def test_a_list_sized_by_its_limit_argument_assumes_its_default_without_it():
    assert requested("{ topTags { label } }") == 3
    assert requested("{ topTags(limit: null) { label } }") == 3


def test_plain_list_without_assumed_size_counts_once():
    assert requested('{ post(id: "p1") { related { title } } }') == 1 + 1


# --- actual cost --------------------------------------------------------------------------


def test_actual_counts_the_edges_really_returned():
    query = "{ posts(first: 10) { edges { node { title } } } }"
    assert requested(query) == 1 + 10 * 2
    assert actual(query) == 1 + 3 * 2  # only three posts exist


def test_actual_nulls_cost_nothing():
    # post p2 has no author: 3 edges, 3 nodes, 2 authors
    query = "{ posts(first: 10) { edges { node { title author { name } } } } }"
    assert actual(query) == 1 + 3 + 3 + 2


def test_actual_of_a_missing_object_is_zero():
    query = '{ post(id: "nope") { title author { name } } }'
    assert requested(query) == 2
    assert actual(query) == 0


def test_actual_of_no_data_is_zero():
    assert analyse("{ posts { nodes { title } } }").actual(None) == 0


def test_actual_counts_declared_weights_per_item_returned():
    # post 1 + 2 tags really returned x weight 2
    assert actual('{ post(id: "p1") { tags { label } } }') == 1 + 2 * 2
    assert actual('{ post(id: "p1") { score } }') == 1 + 3


def test_actual_counts_aliases_separately():
    assert actual('{ a: post(id: "p1") { title } b: post(id: "p2") { title } }') == 2


def test_actual_through_fragments():
    query = """
        { posts(first: 2) { ...Page } }
        fragment Page on PostConnection { nodes { ... on Post { author { name } } } }
    """
    assert requested(query) == 1 + 2 * 2
    assert actual(query) == 1 + 2 + 1  # p1 has an author, p2 has none


def test_actual_of_a_mutation():
    assert actual('mutation { addPost(title: "x") { author { name } } }') == 10 + 1
    # a mutation is charged its weight even when it answers null: it did its work
    assert actual('mutation { deletePost(id: "p1") { id } }') == 10


def test_actual_never_exceeds_requested_for_full_pages():
    query = "{ posts(first: 3) { edges { node { title author { name } } } } }"
    assert actual(query) <= requested(query)


# --- the worked example (README) ----------------------------------------------------------


def test_worked_example():
    """``posts(first: 20)``: the connection costs 1; each of the 20 edges costs 1, its node 1
    and the node's author 1; ``title`` and ``name`` are scalars: 1 + 20 x 3 = 61."""
    query = "{ posts(first: 20) { edges { node { title author { name } } } } }"
    assert requested(query) == 61
    # Three posts exist, one without an author: 1 + 3 edges + 3 nodes + 2 authors = 9.
    assert actual(query) == 9


def test_worked_example_with_nested_comments():
    """Each of the 20 posts adds its comments connection (1) and 5 comments x (1 + author 1):
    1 + 20 x (edge 1 + node 1 + author 1 + comments 11) = 281."""
    query = """{ posts(first: 20) { edges { node { title author { name }
        comments(first: 5) { nodes { body author { name } } } } } } }"""
    assert requested(query) == 281
