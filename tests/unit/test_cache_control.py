"""The cache policy of an operation over a small dedicated schema, so each rule of
``schema.cache_control`` (Apollo's semantics, read from the document) is shown by hand: the
lowest maxAge wins, PRIVATE wins, scalars inherit, composite and root fields default to 0,
inheritMaxAge, fragments, interfaces, introspection, mutations; then what the request and
its result change (``response_policy``)."""

from __future__ import annotations

import pytest
import strawberry
from graphql import parse, validate

from schema.cache_control import document_policy, response_policy
from vocabulary.cache_hints import (
    INHERIT_MAX_AGE,
    NOT_CACHEABLE,
    VIEWER_ONLY,
    CacheControlScope,
    CachePolicy,
    cache_control,
)

PRIVATE = CacheControlScope.PRIVATE
PUBLIC = CacheControlScope.PUBLIC

# --- the test schema ---------------------------------------------------------------------


@strawberry.interface
class Item:
    id: strawberry.ID
    label: str


@strawberry.type
class Person:
    name: str


@strawberry.type(directives=[cache_control(max_age=60)])
class Book(Item):
    title: str
    price: int = strawberry.field(directives=[cache_control(max_age=10)])
    notes: str = strawberry.field(directives=[VIEWER_ONLY])
    author: Person
    editor: Person = strawberry.field(directives=[INHERIT_MAX_AGE])


@strawberry.type(directives=[cache_control(max_age=5, scope=PRIVATE)])
class Gadget(Item):
    label: str = strawberry.field(directives=[VIEWER_ONLY])


@strawberry.type(directives=[INHERIT_MAX_AGE])
class Shelf:
    books: list[Book]


@strawberry.type
class Query:
    book: Book
    shelf: Shelf
    count: int
    long_book: Book = strawberry.field(directives=[cache_control(max_age=100)])
    hinted_shelf: Shelf = strawberry.field(directives=[cache_control(max_age=30)])
    version: str = strawberry.field(directives=[cache_control(max_age=120)])
    item: Item | None = strawberry.field(directives=[cache_control(max_age=45)])


@strawberry.type
class Mutation:
    renamed: Book = strawberry.field(directives=[cache_control(max_age=60)])


SCHEMA = strawberry.Schema(query=Query, mutation=Mutation, types=[Gadget])


def policy(query: str, operation_name: str | None = None) -> CachePolicy:
    document = parse(query)
    assert not validate(SCHEMA._schema, document)
    return document_policy(SCHEMA._schema, document, operation_name)


def public(max_age: int) -> CachePolicy:
    return CachePolicy(max_age=max_age)


def private(max_age: int) -> CachePolicy:
    return CachePolicy(max_age=max_age, scope=PRIVATE)


# --- one operation -----------------------------------------------------------------------


def test_a_root_field_has_the_hint_of_the_type_it_returns() -> None:
    assert policy("{ book { title } }") == public(60)


def test_a_field_hint_overrides_the_hint_of_its_type() -> None:
    assert policy("{ longBook { title } }") == public(100)


def test_the_lowest_max_age_of_the_selected_fields_wins() -> None:
    assert policy("{ book { title price } }") == public(10)
    assert policy("{ version longBook { title } }") == public(100)


def test_a_private_field_makes_the_whole_operation_private() -> None:
    assert policy("{ book { title notes } }") == private(60)


def test_scalar_fields_without_a_hint_inherit_their_parents_policy() -> None:
    assert policy("{ book { title } }") == policy("{ book { id title label } }")


def test_a_field_returning_an_object_without_a_hint_is_not_cacheable() -> None:
    assert policy("{ book { author { name } } }") == NOT_CACHEABLE


def test_inherit_max_age_on_a_field_keeps_the_parents_max_age() -> None:
    assert policy("{ book { editor { name } } }") == public(60)


def test_a_root_field_without_a_max_age_is_not_cacheable() -> None:
    assert policy("{ count }") == NOT_CACHEABLE
    # Shelf inherits its max age, but a root field has no parent to inherit it from.
    assert policy("{ shelf { books { title } } }") == NOT_CACHEABLE


def test_inherit_max_age_on_a_type_takes_the_max_age_of_the_field_returning_it() -> None:
    assert policy("{ hintedShelf { books { title } } }") == public(30)


def test_a_named_fragment_counts_like_its_fields_written_inline() -> None:
    spread = "{ book { ...Costly } longBook { ...Costly } } fragment Costly on Book { price }"
    assert policy(spread) == policy("{ book { price } longBook { price } }") == public(10)


def test_an_inline_fragment_counts_like_its_fields() -> None:
    assert policy("{ book { ... on Book { notes } } }") == private(60)


def test_a_fragment_narrowing_an_interface_applies_the_hint_of_its_type() -> None:
    assert policy("{ item { id ... on Book { title } } }") == public(45)
    assert policy("{ item { id ... on Gadget { id } } }") == private(5)
    named = "{ item { ...G } } fragment G on Gadget { id }"
    assert policy(named) == private(5)


def test_a_field_of_an_interface_counts_its_hints_on_every_implementation() -> None:
    assert policy("{ item { label } }") == private(45)


def test_fields_under_skip_or_include_count_whatever_the_condition() -> None:
    assert policy("{ book { title notes @include(if: false) } }") == private(60)


def test_typename_adds_nothing() -> None:
    assert policy("{ book { __typename title } }") == public(60)
    assert not policy("{ __typename }").cacheable


def test_introspection_is_not_cacheable() -> None:
    assert policy("{ __schema { queryType { name } } }") == NOT_CACHEABLE
    assert policy('{ book { title } __type(name: "Book") { name } }') == NOT_CACHEABLE


def test_a_mutation_is_not_cacheable_whatever_its_hints() -> None:
    assert policy("mutation { renamed { title } }") == NOT_CACHEABLE


def test_each_operation_of_a_document_has_its_own_policy() -> None:
    document = "query Cheap { version } query Costly { book { price } }"
    assert policy(document, "Cheap") == public(120)
    assert policy(document, "Costly") == public(10)


def test_the_policy_is_worked_out_once_per_document() -> None:
    document = parse("{ book { title price } }")
    first = document_policy(SCHEMA._schema, document, None)
    assert document_policy(SCHEMA._schema, document, None) is first


# --- the response ------------------------------------------------------------------------


def respond(
    operation: CachePolicy,
    *,
    has_errors: bool = False,
    authenticated: bool = False,
    max_age_limit: int = 300,
) -> CachePolicy:
    return response_policy(
        operation,
        has_errors=has_errors,
        authenticated=authenticated,
        max_age_limit=max_age_limit,
    )


def test_an_anonymous_response_without_errors_keeps_the_operations_policy() -> None:
    assert respond(public(60)) == public(60)
    assert respond(private(60)) == private(60)


def test_a_response_with_errors_is_not_cacheable() -> None:
    assert not respond(public(60), has_errors=True).cacheable


def test_an_authenticated_response_is_at_most_private() -> None:
    assert respond(public(60), authenticated=True) == private(60)


@pytest.mark.parametrize(("limit", "expected"), [(30, public(30)), (300, public(60))])
def test_the_max_age_limit_lowers_a_longer_max_age(limit: int, expected: CachePolicy) -> None:
    assert respond(public(60), max_age_limit=limit) == expected


def test_a_max_age_limit_of_zero_caches_nothing() -> None:
    assert not respond(public(60), max_age_limit=0).cacheable


def test_an_operation_that_is_not_cacheable_stays_so() -> None:
    assert not respond(NOT_CACHEABLE).cacheable
    assert not respond(CachePolicy(scope=PUBLIC)).cacheable  # no maxAge at all
