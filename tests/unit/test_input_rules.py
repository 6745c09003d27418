"""The input rules over a small dedicated schema: every string reaching an argument, as a
literal or through a variable (its default included), at any depth of input objects and
lists, is checked against the ``@maxLength`` of its argument or input field (for a list, per
item) and the general rules; the first problem names the argument path and its field.
Arguments are collected once per fragment, however often it is spread."""

from __future__ import annotations

import gc
from typing import Annotated, Any

import pytest
import strawberry
from graphql import (
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    get_operation_ast,
    get_variable_values,
    parse,
    validate,
)
from strawberry.directive import DirectiveLocation, DirectiveValue

from schema.input_rules import ArgumentSite, argument_sites, check_arguments
from services.errors import BadUserInput
from vocabulary.directives import max_length

# --- the test schema ---------------------------------------------------------------------


@strawberry.input
class Filter:
    tag: str | None = strawberry.field(default=None, directives=[max_length(5)])
    words: list[str] | None = None
    nested: Filter | None = None
    count: int | None = None


@strawberry.type
class Item:
    name: str

    @strawberry.field
    def child(self, label: Annotated[str, strawberry.argument(directives=[max_length(3)])]) -> Item:
        return self


@strawberry.type
class Query:
    @strawberry.field
    def items(
        self,
        filter: Filter | None = None,
        first: int | None = None,
        code: Annotated[str | None, strawberry.argument(directives=[max_length(4)])] = None,
        ids: list[strawberry.ID] | None = None,
    ) -> list[Item]:
        return []


@strawberry.directive(locations=[DirectiveLocation.FIELD])
def tagged(value: DirectiveValue[str], note: str) -> str:
    return value


SCHEMA: GraphQLSchema = strawberry.Schema(query=Query, directives=[tagged])._schema


def sites_of(query: str) -> list[ArgumentSite]:
    document = parse(query)
    assert validate(SCHEMA, document) == []
    operation = get_operation_ast(document)
    assert operation is not None
    fragments = {
        node.name.value: node
        for node in document.definitions
        if isinstance(node, FragmentDefinitionNode)
    }
    return argument_sites(SCHEMA, operation, fragments)


def refused(query: str, variables: dict[str, Any] | None = None) -> GraphQLError | None:
    """The refusal of these arguments, or None when every string passes."""
    document = parse(query)
    operation = get_operation_ast(document)
    assert operation is not None
    coerced = get_variable_values(SCHEMA, operation.variable_definitions or (), variables or {})
    assert not isinstance(coerced, list), coerced
    try:
        check_arguments(sites_of(query), coerced.coerced)
    except GraphQLError as error:
        return error
    return None


def refusal(query: str, variables: dict[str, Any] | None = None) -> str | None:
    """The message of the refusal, or None when every string passes."""
    error = refused(query, variables)
    return None if error is None else error.message


NUL = "a\x00b"

# --- which arguments are checked ---------------------------------------------------------


def test_arguments_that_cannot_hold_text_are_not_collected():
    assert sites_of("{ items(first: 5) { name } }") == []


def test_every_text_argument_is_collected_with_its_field():
    sites = sites_of(
        '{ items(first: 5, code: "x", filter: {count: 1}) { child(label: "y") { name } } }'
    )
    assert [(site.owner, site.node.name.value) for site in sites] == [
        ("items", "code"),
        ("items", "filter"),
        ("child", "label"),
    ]


def test_a_fragment_spread_many_times_is_collected_once():
    fragments = ['fragment F0 on Item { child(label: "a") { name } }'] + [
        f"fragment F{n} on Item {{ ...F{n - 1} ...F{n - 1} }}" for n in range(1, 31)
    ]
    query = "{ items { ...F30 } } " + " ".join(fragments)

    assert len(sites_of(query)) == 1


def test_arguments_in_inline_fragments_and_directives_are_collected():
    sites = sites_of(
        'query($c: String!) { items { ... on Item { child(label: $c) @tagged(note: "n") '
        "{ name } } } }"
    )
    assert [site.owner for site in sites] == ["@tagged", "child"]


# --- the rules ---------------------------------------------------------------------------


def test_a_nul_in_a_literal_names_the_argument_and_its_field():
    assert refusal('{ items(code: "a\\u0000") { name } }') == (
        "Argument 'code' of 'items' must not contain NUL characters (\\u0000)"
    )


def test_a_refusal_is_bad_user_input_located_at_the_argument():
    error = refused('{ items(filter: {tag: "toolong"}) { name } }')

    assert error is not None
    assert isinstance(error.original_error, BadUserInput)
    assert error.original_error.message == error.message
    assert error.original_error.extensions["argument"] == "filter.tag"
    assert [(location.line, location.column) for location in error.locations or ()] == [(1, 9)]


def test_a_nul_in_a_variable_names_the_argument_path():
    query = "query($f: Filter) { items(filter: $f) { name } }"
    assert refusal(query, {"f": {"nested": {"words": ["ok", NUL]}}}) == (
        "Argument 'filter.nested.words[1]' of 'items' must not contain NUL characters (\\u0000)"
    )


def test_a_variable_inside_a_literal_object_is_checked():
    query = "query($w: String!) { items(filter: {words: [$w]}) { name } }"
    assert refusal(query, {"w": NUL}) is not None


def test_a_variable_default_is_checked():
    assert refusal('query($c: String = "a\\u0000") { items(code: $c) { name } }') is not None


def test_ids_are_checked_like_strings():
    assert refusal("query($ids: [ID!]) { items(ids: $ids) { name } }", {"ids": [1, NUL]}) == (
        "Argument 'ids[1]' of 'items' must not contain NUL characters (\\u0000)"
    )


def test_the_declared_limit_of_an_argument_applies():
    assert refusal('{ items(code: "abcd") { name } }') is None
    assert refusal('{ items(code: "abcde") { name } }') == (
        "Argument 'code' of 'items' must be at most 4 characters long (got 5)"
    )


def test_the_declared_limit_of_an_input_field_applies():
    query = "query($f: Filter) { items(filter: $f) { name } }"
    assert refusal(query, {"f": {"tag": "x" * 5}}) is None
    assert refusal(query, {"f": {"nested": {"tag": "x" * 6}}}) == (
        "Argument 'filter.nested.tag' of 'items' must be at most 5 characters long (got 6)"
    )


def test_an_undeclared_string_has_the_general_limit():
    query = "query($f: Filter) { items(filter: $f) { name } }"
    assert refusal(query, {"f": {"words": ["x" * 100_000]}}) is None
    message = refusal(query, {"f": {"words": ["x" * 100_001]}})
    assert message is not None
    assert "at most 100000 characters" in message


def test_an_argument_of_a_nested_field_in_a_fragment_is_checked():
    query = '{ items { ...F } } fragment F on Item { child(label: "four") { name } }'
    assert refusal(query) == "Argument 'label' of 'child' must be at most 3 characters long (got 4)"


def test_values_without_problems_pass():
    query = "query($f: Filter, $c: String) { items(filter: $f, code: $c) { name } }"
    assert refusal(query, {"f": {"tag": "ok", "words": ["a", "b"], "count": 3}, "c": "ok"}) is None


@pytest.mark.parametrize("value", ["\ud800", "x\udfff"])
def test_an_unpaired_surrogate_from_a_lenient_json_decoder_is_refused(value):
    message = refusal("query($c: String) { items(code: $c) { name } }", {"c": value})
    assert message is not None
    assert "valid Unicode" in message


def test_checking_a_request_leaves_no_cyclic_garbage():
    """Every request runs these rules: their garbage must be freed by reference counting
    (the app raises the cyclic collector's threshold, see README). Parsing is left out: the
    app parses a query once (and graphql-core's tokens are a doubly linked list)."""
    document = parse(
        "query($f: Filter) { items(filter: $f) { ...F } } "
        'fragment F on Item { child(label: "ok") { ... on Item { name } } }'
    )
    operation = get_operation_ast(document)
    assert operation is not None
    fragments = {
        node.name.value: node
        for node in document.definitions
        if isinstance(node, FragmentDefinitionNode)
    }
    variables = {"f": {"tag": "ok", "words": ["a"], "nested": {"tag": "b"}}}
    gc.collect()
    gc.disable()
    try:
        gc.set_debug(gc.DEBUG_SAVEALL)
        coerced = get_variable_values(SCHEMA, operation.variable_definitions or (), variables)
        assert not isinstance(coerced, list)
        check_arguments(argument_sites(SCHEMA, operation, fragments), coerced.coerced)
        gc.collect()
        garbage = [type(item).__qualname__ for item in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()

    assert garbage == []
