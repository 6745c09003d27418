"""What ``prefetch`` loads is what each relation field declares (``metadata=prefetched(...)``),
indexed when the schema is built; start-up refuses a declaration it could not honour."""

from __future__ import annotations

import typing
from dataclasses import dataclass

import pytest
import strawberry
from graphql import GraphQLObjectType
from strawberry.types.field import StrawberryField

from models.posts import Post
from models.wallet import Transfer
from resolvers.prefetch import declared_relation, prefetched, relations_of, to_one
from resolvers.relations import users_by_id
from schema import AgoraSchema, build_schema
from schema.permissions import IsAuthenticated
from tests.conftest import make_settings


@dataclass
class Row:
    owner_id: int


@strawberry.type
class Owned:
    @strawberry.field(metadata=prefetched(to_one("owner_id", users_by_id)))
    def owner(self) -> int:
        return 0


@strawberry.type
class ByOwner:
    @strawberry.field(metadata=prefetched(to_one("owner_id", users_by_id)))
    def owner(self, root: strawberry.Parent[Row]) -> int:
        return root.owner_id


@strawberry.type
class ByOtherKey:
    @strawberry.field(metadata=prefetched(to_one("other_id", users_by_id)))
    def owner(self, root: strawberry.Parent[Row]) -> int:
        return root.owner_id


@strawberry.type
class Guarded:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        metadata=prefetched(to_one("owner_id", users_by_id)),
    )
    def owner(self, root: strawberry.Parent[Row]) -> int:
        return root.owner_id


@strawberry.type
class OwnedQuery:
    owned: Owned


@strawberry.type
class TwoKeysQuery:
    a: ByOwner
    b: ByOtherKey


@strawberry.type
class GuardedQuery:
    guarded: Guarded


def parent_class(definition: StrawberryField) -> type:
    """What the field's resolver declares with ``strawberry.Parent[...]``."""
    resolver = definition.base_resolver
    assert resolver is not None
    assert resolver.parent_parameter is not None
    annotation = resolver.strawberry_annotations[resolver.parent_parameter]
    assert annotation is not None
    parent: type = typing.get_args(annotation.evaluate())[0]
    return parent


def test_every_relation_field_is_found_under_its_parent_class_and_graphql_name() -> None:
    schema = build_schema(make_settings())
    relations = relations_of(schema._schema)

    declared = [
        (f"{type_.name}.{name}", name, field.extensions["strawberry-definition"])
        for type_ in schema._schema.type_map.values()
        if isinstance(type_, GraphQLObjectType) and not type_.name.startswith("__")
        for name, field in type_.fields.items()
        if declared_relation(field.extensions["strawberry-definition"]) is not None
    ]
    assert len(declared) == 18  # the relation fields of the schema today
    for where, name, definition in declared:
        found = relations.of(parent_class(definition)).get(name)
        assert found is declared_relation(definition), where


def test_relations_are_named_as_the_selections_name_them() -> None:
    relations = relations_of(build_schema(make_settings())._schema)

    assert set(relations.of(Transfer)) == {"from", "to"}  # Python: sender, receiver
    assert set(relations.of(Post)) == {"author", "commentCount", "comments"}


def test_a_relation_field_without_a_parent_annotation_is_refused_at_start_up() -> None:
    with pytest.raises(TypeError, match=r"Owned\.owner is prefetched: .*strawberry\.Parent"):
        AgoraSchema(query=OwnedQuery)


def test_one_class_with_two_relations_under_one_name_is_refused_at_start_up() -> None:
    with pytest.raises(TypeError, match=r"ByOtherKey\.owner: .* loads `owner` otherwise"):
        AgoraSchema(query=TwoKeysQuery)


def test_a_relation_field_with_permission_classes_is_refused_at_start_up() -> None:
    with pytest.raises(TypeError, match=r"Guarded\.owner is prefetched: it cannot have"):
        AgoraSchema(query=GuardedQuery)
