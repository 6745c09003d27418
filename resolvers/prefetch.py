"""Resolve a whole level at once.

A relation field declares what loads it, where it is declared:
``strawberry.field(metadata=prefetched(to_one("author_id", users_by_id)))``. When the schema
is built, ``index_relations`` reads those declarations into the schema's ``Relations``,
keyed by the model the field's resolver reads (its ``strawberry.Parent[...]`` parameter) and
the field's GraphQL name, as the selections name it.

A list (or connection, or single object) resolver calls ``prefetch`` with the objects it
returns and the selection below them. For every selected relation this loads the values of
ALL the objects in one batch (a DataLoader, or one windowed statement for nested
connections), attaches them to the objects under the field's nodes (never its response key:
the objects are shared, and another selection of one may use that key for other arguments
or another field; see ``resolvers/attachments.py``), and recurses into the loaded objects.
``read_prefetched_first`` gives each relation field a plain graphql-core resolver that
returns what was attached, which keeps graphql-core from creating a coroutine per field and
item and skips Strawberry's per-field layers (see docs/ARCHITECTURE.md, "The path of an
HTTP request"). A field whose value was not prefetched (an object reached some other way)
runs its Strawberry resolver: the DataLoader fallback. With ``LIBRARY_SHORTCUTS=false``
every relation field runs its Strawberry resolver, which finds the prefetched value in its
DataLoader's cache or, for a connection, reads it with ``attached_to``: the same statements
either way.
"""

from __future__ import annotations

import asyncio
import typing
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from graphql import GraphQLFieldResolver, GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema
from strawberry.dataloader import DataLoader
from strawberry.types.field import StrawberryField

from core import tracing
from loaders import Loaders
from loaders.level import BATCH_KEYS_ATTRIBUTE, batch_name, load_level
from resolvers.attachments import MISSING, PREFETCHED_FIELD, attach_each, attached, slot
from resolvers.selection import (
    FieldSelection,
    field_nodes,
    graphql_schema,
    node_fields,
    selected_field,
    subfields,
)
from resolvers.selection import (
    fields_of as fields_of,  # re-exported: the list resolvers' import
)
from services.pagination import Page
from vocabulary.connections import Connection, connection_from_page

if TYPE_CHECKING:
    from vocabulary.context import Context, Info

Relation = Callable[["Info", list[Any], FieldSelection], Awaitable[None]]
"""Loads one relation field for every object of a level and attaches the values."""

_RELATION = "agora.relation"  # StrawberryField.metadata: the field's Relation
_RELATIONS = "agora-relations"  # GraphQLSchema.extensions: the schema's Relations


def prefetched(relation: Relation) -> dict[str, object]:
    """A relation field's ``metadata``: ``relation`` loads its value for a whole level.
    The field's resolver reads ``strawberry.Parent[Model]`` (the objects ``relation`` is
    given) and is the DataLoader fallback; it may have no permission classes or extensions."""
    return {_RELATION: relation}


def declared_relation(field: StrawberryField) -> Relation | None:
    relation: Relation | None = field.metadata.get(_RELATION)
    return relation


class Relations:
    """Every relation of a schema: by the model (or row class) a field's resolver reads,
    then by the field's GraphQL name."""

    def __init__(self, by_model: Mapping[type, Mapping[str, Relation]]) -> None:
        self._by_model = by_model

    def of(self, model: type) -> Mapping[str, Relation]:
        return self._by_model.get(model, {})


def _parent_model(field: StrawberryField, where: str) -> type:
    """The class of the objects the field resolves from: its ``strawberry.Parent[...]``."""
    resolver = field.base_resolver
    parameter = resolver.parent_parameter if resolver is not None else None
    if resolver is None or parameter is None:
        raise TypeError(
            f"{where} is prefetched: its resolver must take `root: strawberry.Parent[Model]` "
            "(the relation is looked up by the objects' class)"
        )
    annotation = resolver.strawberry_annotations[parameter]
    model = typing.get_args(annotation.evaluate())[0] if annotation is not None else None
    if not isinstance(model, type):
        raise TypeError(f"{where}: `strawberry.Parent[...]` must name a class, not {model!r}")
    return model


def index_relations(schema: GraphQLSchema) -> None:
    """Read every field's ``prefetched(...)`` into the schema's ``Relations`` (what
    ``prefetch`` looks up, ``relations_of``); a model with two different relations under one
    name is refused."""
    by_model: dict[type, dict[str, Relation]] = {}
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for name, field in type_.fields.items():
            definition = field.extensions.get("strawberry-definition")
            relation = declared_relation(definition) if definition is not None else None
            if relation is None:
                continue
            where = f"{type_.name}.{name}"
            of_model = by_model.setdefault(_parent_model(definition, where), {})
            if of_model.get(name, relation) is not relation:
                raise TypeError(f"{where}: another type of the same model loads `{name}` otherwise")
            of_model[name] = relation
    schema.extensions[_RELATIONS] = Relations(by_model)


def relations_of(schema: GraphQLSchema) -> Relations:
    """The relations ``index_relations`` kept in the schema."""
    relations: Relations = schema.extensions[_RELATIONS]
    return relations


def _attached_first(resolve: GraphQLFieldResolver) -> GraphQLFieldResolver:
    def resolve_attached_first(source: Any, info: GraphQLResolveInfo[Any], **arguments: Any) -> Any:
        value = attached(source, slot(info.field_nodes))
        return resolve(source, info, **arguments) if value is MISSING else value

    return resolve_attached_first


def read_prefetched_first(schema: GraphQLSchema) -> None:
    """Every relation field answers what ``prefetch`` attached under its field nodes, and
    runs its Strawberry resolver only when nothing was attached. The value skips
    Strawberry's per-field layers (its Info, argument conversion and extension chain), so
    such a field may have no permission classes or extensions."""
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for name, field in type_.fields.items():
            definition = field.extensions.get("strawberry-definition")
            if definition is None or declared_relation(definition) is None:
                continue
            if definition.extensions:
                raise TypeError(
                    f"{type_.name}.{name} is prefetched: it cannot have permission classes or "
                    "field extensions (the prefetched value would skip them)"
                )
            assert field.resolve is not None, "Strawberry gives every field a resolver"
            field.resolve = _attached_first(field.resolve)
            field.extensions[PREFETCHED_FIELD] = True


def current_field(info: Info) -> FieldSelection:
    """The field being resolved and its selections (never Strawberry's
    ``info.selected_fields``, which expands fragments anew at every spread)."""
    return selected_field(info)


async def prefetch(info: Info, items: Sequence[Any], fields: list[FieldSelection]) -> None:
    """Load every selected relation of ``items`` (all of one model) a level at a time."""
    if not items:
        return
    model = type(items[0])
    shown = info.context.shown_entities
    if shown is not None:  # the response cache tags the answer with every object it shows
        name = model.__name__
        shown.update((name, item.id) for item in items)
    relations = relations_of(graphql_schema(info)).of(model)
    loads = [
        relation(info, list(items), field)
        for field in fields
        if (relation := relations.get(field.name)) is not None
    ]
    if len(loads) == 1:
        await loads[0]  # no task for a lone relation
    elif loads:
        await asyncio.gather(*loads)


async def prefetch_one(info: Info, item: Any) -> None:
    """For a resolver returning one object: prefetch what is selected below it."""
    if item is not None:
        await prefetch(info, [item], subfields(current_field(info)))


def attached_to(info: Info, root: Any) -> Any:
    """What ``prefetch`` attached to ``root`` for the field being resolved, or ``MISSING``:
    a relation field's Strawberry resolver reads it first, since with
    ``LIBRARY_SHORTCUTS=false`` it runs even when the value was prefetched."""
    return attached(root, slot(field_nodes(info)))


async def prefetch_page(info: Info, page: Page[Any]) -> Connection[Any]:
    """For a connection resolver: prefetch below the nodes, then build the connection."""
    await prefetch(info, page.items, node_fields(current_field(info)))
    return connection_from_page(page)


# --- relation shapes: what ``prefetched(...)`` takes -----------------------------------

LoaderOf = Callable[[Loaders], DataLoader[Any, Any]]
"""Picks a request's DataLoader, e.g. ``lambda loaders: loaders.users.by_id``."""


def to_one(key_attr: str, loader: LoaderOf) -> Relation:
    """A foreign key: ``items[i].<key_attr>`` → one object, through a by-id DataLoader."""

    async def load(info: Info, items: list[Any], field: FieldSelection) -> None:
        keys = [getattr(item, key_attr) for item in items]
        values = await load_level(loader(info.context.loaders), keys)
        attach_each(items, slot(field.nodes), values)
        children = [value for value in values if value is not None]
        await prefetch(info, children, subfields(field))

    return load


def per_item(loader: LoaderOf) -> Relation:
    """A value keyed by the item's id (counts), through a DataLoader."""

    async def load(info: Info, items: list[Any], field: FieldSelection) -> None:
        values = await load_level(loader(info.context.loaders), [item.id for item in items])
        attach_each(items, slot(field.nodes), values)

    return load


def to_many(loader: LoaderOf) -> Relation:
    """A plain list keyed by the item's id (order lines), through a DataLoader."""

    async def load(info: Info, items: list[Any], field: FieldSelection) -> None:
        lists = await load_level(loader(info.context.loaders), [item.id for item in items])
        attach_each(items, slot(field.nodes), lists)
        children = [child for values in lists for child in values]
        await prefetch(info, children, subfields(field))

    return load


PageBuilder = Callable[
    ["Context", list[Any], dict[str, Any]], Awaitable[dict[int, Page[Any]] | None]
]


def to_connection(build: PageBuilder) -> Relation:
    """A nested connection: one page per item, all built in one statement by ``build``
    (which returns None when the arguments need the per-item fallback, e.g. cursors)."""
    span_name = f"load {batch_name(build)}"

    async def load(info: Info, items: list[Any], field: FieldSelection) -> None:
        if tracing.enabled:
            attributes = {BATCH_KEYS_ATTRIBUTE: len(items)}
            with tracing.span(span_name, attributes):
                pages = await build(info.context, items, field.arguments)
        else:
            pages = await build(info.context, items, field.arguments)
        if pages is None:
            return
        attach_each(
            items, slot(field.nodes), [connection_from_page(pages[item.id]) for item in items]
        )
        children = [child for page in pages.values() for child in page.items]
        await prefetch(info, children, node_fields(field))

    return load
