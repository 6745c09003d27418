"""vocabulary/type_checks.py: the schema's own ``is_type_of`` checks are answered by the
object's class, so compiled plans ask them once per class."""

from __future__ import annotations

from graphql import GraphQLObjectType

from schema import build_schema
from tests.conftest import make_settings
from vocabulary.type_checks import decided_by_class, is_decided_by_class


def test_every_is_type_of_of_the_schemas_own_types_is_decided_by_class():
    graphql_schema = build_schema(make_settings())._schema
    ours = {
        name: type_.is_type_of
        for name, type_ in graphql_schema.type_map.items()
        if isinstance(type_, GraphQLObjectType)
        and type_.is_type_of is not None
        and getattr(type_.is_type_of, "__module__", "").startswith("schema.")
    }

    assert ours  # Post, Comment, User, Product, Order, Transfer, File, Notification
    assert [name for name, check in ours.items() if not is_decided_by_class(check)] == []


def test_an_unmarked_check_is_not_decided_by_class():
    def is_type_of(obj: object, _info: object) -> bool:
        return True

    assert not is_decided_by_class(is_type_of)
    assert is_decided_by_class(decided_by_class(is_type_of))
