"""The document limits' measure: fields with fragments expanded, depth and nesting through
fragments, directives and aliases as written; any document that parses is measured, in time
linear in its text. Then how often one response key repeats at one place of the result, as
graphql-core merges fields (the work of its overlapping-fields rule)."""

from __future__ import annotations

from graphql import parse

from schema.field_repeats import Repeat, most_repeated
from schema.limits import FIELD_COUNT_CEILING, Definition, DocumentShape, measure


def definition(shape: DocumentShape, name: str) -> Definition:
    return next(found for found in shape.definitions if found.name == name)


def test_a_fragment_counts_wherever_it_is_spread():
    shape = measure(parse("{ a { ...F b { ...F } } } fragment F on T { x y }"))

    assert definition(shape, "anonymous").fields == 2 + 2 + 2
    assert definition(shape, "F").fields == 2


def test_depth_goes_through_fragments_at_the_depth_of_the_spread():
    shape = measure(parse("query Q { a { b { ...F } } } fragment F on T { c { d } }"))

    assert definition(shape, "Q").depth == 4


def test_introspection_is_counted_in_fields_but_not_in_depth():
    shape = measure(
        parse(
            "query Q { a { __typename } __schema { types { ...T } } } "
            "fragment T on __Type { fields { name } }"
        )
    )

    operation = definition(shape, "Q")
    assert operation.depth == 1
    assert operation.fields == 1 + 1 + 1 + 1 + 2


def test_nesting_counts_selection_sets_through_inline_fragments_and_spreads():
    shape = measure(parse("query Q { a { ... on T { ...F } } } fragment F on T { b { c } }"))

    assert definition(shape, "Q").nesting == 5


def test_unknown_and_cyclic_fragments_add_nothing_more():
    shape = measure(
        parse("query Q { ...Missing ...A } fragment A on T { x ...B } fragment B on T { y ...A }")
    )

    assert definition(shape, "Q").fields == 2


def test_a_chain_of_fragments_longer_than_the_recursion_limit_is_measured():
    links = 3000
    fragments = " ".join(f"fragment F{i} on T {{ ...F{i - 1} }}" for i in range(1, links + 1))

    shape = measure(parse(f"query Q {{ ...F{links} }} fragment F0 on T {{ x }} {fragments}"))

    assert definition(shape, "Q").fields == 1
    assert definition(shape, "Q").nesting == links + 2


def test_field_counts_stop_at_the_ceiling():
    fragments = " ".join(f"fragment F{i} on T {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 200))

    shape = measure(parse(f"query Q {{ ...F199 }} fragment F0 on T {{ x }} {fragments}"))

    assert definition(shape, "Q").fields == FIELD_COUNT_CEILING


def test_directives_are_counted_where_they_are_written():
    shape = measure(
        parse(
            "query Q($v: Int @a) @b { f @c @d @e ...F @f ... @g { x } } fragment F on T @h { y @i }"
        )
    )

    assert shape.directives == 9
    assert (shape.most_directives, shape.most_directives_on) == (3, "field")


def test_aliases_and_operations_are_counted_as_written():
    shape = measure(parse("query A { a: x ...F } query B { b: x } fragment F on T { c: x }"))

    assert (shape.aliases, shape.operations) == (3, 2)


# --- one response key at one place ----------------------------------------------------------


def test_fields_under_one_response_key_are_counted_at_their_place():
    repeat = most_repeated(parse("query Q { a { x y: x x } b { x } }"))

    assert repeat == Repeat("Operation", "Q", "a.x", 2)


def test_inline_fragments_and_spread_fragments_count_where_they_are():
    repeat = most_repeated(parse("{ a { x ... { x } ... on T { x } ...F } } fragment F on T { x }"))

    assert repeat == Repeat("Operation", "anonymous", "a.x", 4)


def test_fields_of_one_key_merge_their_selections():
    document = "{ a { b { c } } a { b { c } } a { b { c c } } }"

    assert most_repeated(parse(document)) == Repeat("Operation", "anonymous", "a.b.c", 4)


def test_a_fragment_spread_again_at_one_place_counts_once():
    document = "{ a { ...F ... { ...F } } a { ...F } ...F } fragment F on T { x }"

    assert most_repeated(parse(document)) == Repeat("Operation", "anonymous", "a", 2)


def test_fragments_spreading_the_previous_one_twice_count_once():
    fragments = " ".join(f"fragment F{i} on T {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 200))

    repeat = most_repeated(
        parse(f"query Q {{ a {{ ...F199 }} }} fragment F0 on T {{ x }} {fragments}")
    )

    assert repeat == Repeat("Operation", "Q", "a", 1)


def test_unknown_and_cyclic_fragments_add_no_repeats():
    document = "query Q { x ...Missing ...A } fragment A on T { x ...B } fragment B on T { x ...A }"

    assert most_repeated(parse(document)) == Repeat("Operation", "Q", "x", 3)


def test_an_unused_fragment_is_measured_on_its_own():
    document = "query Q { x } fragment F on T { a { y y y } }"

    assert most_repeated(parse(document)) == Repeat("Fragment", "F", "a.y", 3)


def test_repeats_through_a_chain_longer_than_the_recursion_limit_are_measured():
    links = 3000
    fragments = " ".join(f"fragment F{i} on T {{ x ...F{i - 1} }}" for i in range(1, links + 1))

    repeat = most_repeated(parse(f"query Q {{ ...F{links} }} fragment F0 on T {{ x }} {fragments}"))

    assert repeat == Repeat("Operation", "Q", "x", links + 1)
