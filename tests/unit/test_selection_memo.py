"""``selected_field`` remembers a field's selection per field nodes and variable values: a
repeated document gets the same selection, anything that converts otherwise its own."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import graphql
import pytest

from resolvers.selection import FieldSelection, node_fields, selected_field, subfields

SDL = """
type Query { item(first: Int, ids: [Int!]): Item }
type Item { id: Int, name: String, children(first: Int): [Item] }
"""


class Recorder:
    """Runs documents against a schema whose ``item`` records its selection."""

    def __init__(self) -> None:
        self.schema = graphql.build_schema(SDL)
        self.seen: list[FieldSelection] = []
        self.schema.query_type.fields["item"].resolve = self._item  # type: ignore[union-attr]

    def _item(self, _root: Any, info: graphql.GraphQLResolveInfo[Any], **_: Any) -> None:
        self.seen.append(selected_field(SimpleNamespace(_raw_info=info)))  # type: ignore[arg-type]

    def run(
        self, document: graphql.DocumentNode, variables: dict[str, Any] | None = None
    ) -> list[FieldSelection]:
        self.seen = []
        result = graphql.execute_sync(self.schema, document, variable_values=variables)
        assert result.errors is None, result.errors
        return self.seen


def names(fields: list[FieldSelection]) -> list[str]:
    return [field.alias or field.name for field in fields]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def test_a_repeated_document_gets_the_same_selection(recorder: Recorder):
    document = graphql.parse("{ item(first: 2) { id children(first: 1) { name } } }")

    (first,) = recorder.run(document)
    (again,) = recorder.run(document)

    assert again is first
    assert first.arguments == {"first": "2"}
    assert names(subfields(first)) == ["id", "children"]


def test_another_document_of_the_same_text_gets_its_own_nodes(recorder: Recorder):
    text = "{ item(first: 2) { id } }"

    (first,) = recorder.run(graphql.parse(text))
    document = graphql.parse(text)
    (other,) = recorder.run(document)

    assert other is not first
    assert other.nodes[0] is document.definitions[0].selection_set.selections[0]  # type: ignore[attr-defined]


def test_aliases_of_one_field_get_their_own_arguments_and_selections(recorder: Recorder):
    document = graphql.parse("{ a: item(first: 1) { id } b: item(first: 3) { name } }")

    a, b = recorder.run(document)
    a_again, b_again = recorder.run(document)

    assert (a_again is a, b_again is b) == (True, True)
    assert (a.arguments, names(subfields(a))) == ({"first": "1"}, ["id"])
    assert (b.arguments, names(subfields(b))) == ({"first": "3"}, ["name"])


def test_a_fragment_of_the_same_name_in_another_document_is_read_from_that_document(
    recorder: Recorder,
):
    (with_id,) = recorder.run(graphql.parse("{ item { ...F } } fragment F on Item { id }"))
    (with_name,) = recorder.run(graphql.parse("{ item { ...F } } fragment F on Item { name }"))

    assert names(subfields(with_id)) == ["id"]
    assert names(subfields(with_name)) == ["name"]


@pytest.mark.parametrize(("skip", "expected"), [(True, ["id"]), (False, ["id", "name"])])
def test_skip_and_include_variables_get_their_own_selection(
    recorder: Recorder, skip: bool, expected: list[str]
):
    document = graphql.parse("query ($skip: Boolean!) { item { id name @skip(if: $skip) } }")
    recorder.run(document, {"skip": not skip})  # the other value remembered first

    (selected,) = recorder.run(document, {"skip": skip})

    assert names(subfields(selected)) == expected


def test_each_value_of_an_argument_variable_gets_its_own_selection(recorder: Recorder):
    document = graphql.parse("query ($n: Int) { item(first: $n) { id } }")

    (one,) = recorder.run(document, {"n": 1})
    (three,) = recorder.run(document, {"n": 3})
    (one_again,) = recorder.run(document, {"n": 1})

    assert (one.arguments, three.arguments) == ({"first": 1}, {"first": 3})
    assert one_again is one


def test_a_list_variable_is_converted_anew_every_time(recorder: Recorder):
    document = graphql.parse("query ($ids: [Int!]) { item(ids: $ids) { id } }")

    (first,) = recorder.run(document, {"ids": [1, 2]})
    (second,) = recorder.run(document, {"ids": [1, 2]})

    assert second is not first
    assert second.arguments == {"ids": [1, 2]}


def test_node_fields_are_read_through_edges_and_nodes_once():
    document = graphql.parse("{ c { edges { node { id } } nodes { name } } }")
    node = document.definitions[0].selection_set.selections[0]  # type: ignore[attr-defined]
    connection = FieldSelection(
        name="c",
        directives={},
        arguments={},
        selections=[
            FieldSelection(
                name="edges",
                directives={},
                arguments={},
                selections=[
                    FieldSelection(
                        name="node",
                        directives={},
                        arguments={},
                        selections=[
                            FieldSelection(name="id", directives={}, arguments={}, selections=[])
                        ],
                    )
                ],
            ),
            FieldSelection(
                name="nodes",
                directives={},
                arguments={},
                selections=[
                    FieldSelection(name="name", directives={}, arguments={}, selections=[])
                ],
            ),
        ],
        nodes=(node,),
    )

    found = node_fields(connection)

    assert names(found) == ["id", "name"]
    assert node_fields(connection) is found
