"""``@listSize`` in the SDL (IBM's GraphQL Cost Directive spec), what gateways such as Apollo
Router, Hive and Grafbase read: defined as the spec defines it, on every connection and on
every other list of objects, with the sizes our own cost analysis uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graphql import (
    DirectiveNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    get_named_type,
    is_composite_type,
    print_directive,
    value_from_ast_untyped,
)

from services.pagination import DEFAULT_PAGE_SIZE
from vocabulary.directives import MAX_NODES_IDS

SDL = (Path(__file__).parents[2] / "schema.graphql").read_text()
SCHEMA: GraphQLSchema = build_schema(SDL)

SPEC_DEFINITION = (
    "directive @listSize(assumedSize: Int, slicingArguments: [String!], "
    "sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION"
)


def list_size_of(field: GraphQLField) -> dict[str, Any] | None:
    assert field.ast_node is not None
    found: list[DirectiveNode] = [
        directive
        for directive in field.ast_node.directives or ()
        if directive.name.value == "listSize"
    ]
    if not found:
        return None
    [directive] = found
    return {
        argument.name.value: value_from_ast_untyped(argument.value)
        for argument in directive.arguments or ()
    }


def fields() -> list[tuple[str, str, GraphQLField]]:
    return [
        (type_.name, name, field)
        for type_ in SCHEMA.type_map.values()
        if isinstance(type_, GraphQLObjectType) and not type_.name.startswith("__")
        for name, field in type_.fields.items()
    ]


def is_connection(field: GraphQLField) -> bool:
    return get_named_type(field.type).name.endswith("Connection")


def is_list(field: GraphQLField) -> bool:
    type_ = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    return isinstance(type_, GraphQLList)


def test_list_size_is_defined_as_the_spec_defines_it() -> None:
    directive = SCHEMA.get_directive("listSize")
    assert directive is not None
    assert print_directive(directive).splitlines()[-1] == SPEC_DEFINITION


def test_every_connection_field_declares_its_page_size() -> None:
    connections = [(type_, name, field) for type_, name, field in fields() if is_connection(field)]
    assert len(connections) >= 9
    for type_, name, field in connections:
        assert list_size_of(field) == {
            "assumedSize": DEFAULT_PAGE_SIZE,
            "slicingArguments": ["first", "last"],
            "sizedFields": ["edges", "nodes"],
            "requireOneSlicingArgument": False,
        }, f"{type_}.{name}"


def test_every_other_list_of_objects_declares_a_size() -> None:
    for type_, name, field in fields():
        if not is_list(field) or not is_composite_type(get_named_type(field.type)):
            continue
        if type_.endswith("Connection") and name in ("edges", "nodes"):
            continue  # sized by the connection field above them
        size = list_size_of(field)
        assert size is not None, f"{type_}.{name} is a list without @listSize"
        assert isinstance(size.get("assumedSize"), int), f"{type_}.{name}"


def test_nodes_assume_the_largest_number_of_ids() -> None:
    assert list_size_of(SCHEMA.query_type.fields["nodes"]) == {"assumedSize": MAX_NODES_IDS}  # type: ignore[union-attr]


def test_a_list_sized_by_its_limit_names_the_argument_and_its_default() -> None:
    field = SCHEMA.query_type.fields["topCustomers"]  # type: ignore[union-attr]
    limit = field.args["limit"].ast_node
    assert limit is not None
    assert limit.default_value is not None
    assert list_size_of(field) == {
        "assumedSize": value_from_ast_untyped(limit.default_value),
        "slicingArguments": ["limit"],
        "requireOneSlicingArgument": False,
    }


def test_cost_declares_only_a_weight() -> None:
    directive = SCHEMA.get_directive("cost")
    assert directive is not None
    assert list(directive.args) == ["weight"]
