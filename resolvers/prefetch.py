"""Resolve a whole level at once.

A list (or connection, or single object) resolver calls ``prefetch`` with the objects it
returns and the selection below them. For every selected relation this loads the values of
ALL the objects in one batch (a DataLoader, or one windowed statement for nested
connections), attaches them to the objects under the field's nodes (never its response key:
the objects are shared, and another selection of one may use that key for other arguments
or another field; see ``resolvers/attachments.py``), and recurses into the loaded objects.
The fields themselves are then plain synchronous resolvers that are marked
``metadata=PREFETCHED``: ``read_prefetched_first`` gives each of them a plain graphql-core
resolver that returns what was attached, which keeps graphql-core from
creating a coroutine per field and item and skips Strawberry's per-field layers (see
docs/ARCHITECTURE.md, "The path of an HTTP request"). A field whose value was not prefetched
(an object reached some other way) runs its Strawberry resolver: the DataLoader fallback.
With ``LIBRARY_SHORTCUTS=false`` every PREFETCHED field runs its Strawberry resolver, which
finds the prefetched value in its DataLoader's cache or, for a connection, reads it with
``attached_to``: the same statements either way.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from graphql import GraphQLFieldResolver, GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from loaders.level import load_level
from resolvers.attachments import MISSING, PREFETCHED_FIELD, attach, attached, slot
from resolvers.selection import FieldSelection, field_nodes, selected_field
from services.pagination import Page
from vocabulary.connections import Connection, connection_from_page

if TYPE_CHECKING:
    from vocabulary.context import Context, Info

PREFETCHED: dict[str, object] = {"agora.prefetched": True}
"""``strawberry.field(metadata=PREFETCHED)``: the field's value may come from ``prefetch``."""


Relation = Callable[["Context", list[Any], FieldSelection], Awaitable[None]]
RELATIONS: dict[type, dict[str, Relation]] = {}


def response_key(field: SelectedField) -> str:
    return field.alias or field.name


def _attached_first(resolve: GraphQLFieldResolver) -> GraphQLFieldResolver:
    def resolve_attached_first(source: Any, info: GraphQLResolveInfo[Any], **arguments: Any) -> Any:
        value = attached(source, slot(info.field_nodes))
        return resolve(source, info, **arguments) if value is MISSING else value

    return resolve_attached_first


def read_prefetched_first(schema: GraphQLSchema) -> None:
    """Every field marked PREFETCHED answers what ``prefetch`` attached under its field
    nodes, and runs its Strawberry resolver only when nothing was attached. The value skips
    Strawberry's per-field layers (its Info, argument conversion and extension chain), so
    such a field may have no permission classes or extensions."""
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for name, field in type_.fields.items():
            definition = field.extensions.get("strawberry-definition")
            if definition is None or not definition.metadata.get("agora.prefetched"):
                continue
            if definition.extensions:
                raise TypeError(
                    f"{type_.name}.{name} is PREFETCHED: it cannot have permission classes or "
                    "field extensions (the prefetched value would skip them)"
                )
            assert field.resolve is not None, "Strawberry gives every field a resolver"
            field.resolve = _attached_first(field.resolve)
            field.extensions[PREFETCHED_FIELD] = True


def fields_of(selections: Iterable[Selection]) -> list[FieldSelection]:
    """The fields of a selection set, through fragments and inline fragments, as graphql-core
    collects them: a fragment spread again is not read again, and the fields under one
    response key are one field with the nodes and selections of all."""
    by_key: dict[str, FieldSelection] = {}
    _collect(selections, by_key, set())
    return list(by_key.values())


def _collect(
    selections: Iterable[Selection], by_key: dict[str, FieldSelection], visited: set[str]
) -> None:
    for selection in selections:
        if isinstance(selection, FieldSelection):
            key = response_key(selection)
            known = by_key.get(key)
            by_key[key] = (
                selection
                if known is None
                else dataclasses.replace(
                    known,
                    selections=[*known.selections, *selection.selections],
                    nodes=known.nodes + selection.nodes,
                )
            )
        elif isinstance(selection, InlineFragment):
            _collect(selection.selections, by_key, visited)
        elif isinstance(selection, FragmentSpread) and selection.name not in visited:
            visited.add(selection.name)
            _collect(selection.selections, by_key, visited)


def node_fields(connection: SelectedField) -> list[FieldSelection]:
    """What is selected on the nodes of a connection (``nodes`` and ``edges.node``)."""
    found: list[FieldSelection] = []
    for field in fields_of(connection.selections):
        if field.name == "nodes":
            found.extend(fields_of(field.selections))
        elif field.name == "edges":
            for edge_field in fields_of(field.selections):
                if edge_field.name == "node":
                    found.extend(fields_of(edge_field.selections))
    return found


def current_field(info: Info) -> FieldSelection:
    """The field being resolved and its selections (never Strawberry's
    ``info.selected_fields``, which expands fragments anew at every spread)."""
    return selected_field(info)


async def prefetch(context: Context, items: Sequence[Any], fields: list[FieldSelection]) -> None:
    """Load every selected relation of ``items`` (all of one model) a level at a time."""
    if not items:
        return
    relations = RELATIONS.get(type(items[0]), {})
    loads = [
        relation(context, list(items), field)
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
        await prefetch(info.context, [item], fields_of(current_field(info).selections))


def attached_to(info: Info, root: Any) -> Any:
    """What ``prefetch`` attached to ``root`` for the field being resolved, or ``MISSING``:
    a PREFETCHED field's Strawberry resolver reads it first, since with
    ``LIBRARY_SHORTCUTS=false`` it runs even when the value was prefetched."""
    return attached(root, slot(field_nodes(info)))


async def prefetch_page(info: Info, page: Page[Any]) -> Connection[Any]:
    """For a connection resolver: prefetch below the nodes, then build the connection."""
    await prefetch(info.context, page.items, node_fields(current_field(info)))
    return connection_from_page(page)


def register(model: type, field_name: str) -> Callable[[Relation], Relation]:
    def decorate(relation: Relation) -> Relation:
        RELATIONS.setdefault(model, {})[field_name] = relation
        return relation

    return decorate


# --- relation shapes -------------------------------------------------------------------

LoaderOf = Callable[["Context"], Any]


def to_one(key_attr: str, loader: LoaderOf) -> Relation:
    """A foreign key: ``items[i].<key_attr>`` → one object, through a by-id DataLoader."""

    async def load(context: Context, items: list[Any], field: FieldSelection) -> None:
        values = await load_level(loader(context), [getattr(item, key_attr) for item in items])
        key = slot(field.nodes)
        for item, value in zip(items, values, strict=True):
            attach(item, key, value)
        children = [value for value in values if value is not None]
        await prefetch(context, children, fields_of(field.selections))

    return load


def per_item(loader: LoaderOf) -> Relation:
    """A value keyed by the item's id (counts), through a DataLoader."""

    async def load(context: Context, items: list[Any], field: FieldSelection) -> None:
        values = await load_level(loader(context), [item.id for item in items])
        key = slot(field.nodes)
        for item, value in zip(items, values, strict=True):
            attach(item, key, value)

    return load


def to_many(loader: LoaderOf) -> Relation:
    """A plain list keyed by the item's id (order lines), through a DataLoader."""

    async def load(context: Context, items: list[Any], field: FieldSelection) -> None:
        lists = await load_level(loader(context), [item.id for item in items])
        key = slot(field.nodes)
        for item, value in zip(items, lists, strict=True):
            attach(item, key, value)
        children = [child for values in lists for child in values]
        await prefetch(context, children, fields_of(field.selections))

    return load


PageBuilder = Callable[
    ["Context", list[Any], dict[str, Any]], Awaitable[dict[int, Page[Any]] | None]
]


def to_connection(build: PageBuilder) -> Relation:
    """A nested connection: one page per item, all built in one statement by ``build``
    (which returns None when the arguments need the per-item fallback, e.g. cursors)."""

    async def load(context: Context, items: list[Any], field: FieldSelection) -> None:
        pages = await build(context, items, field.arguments)
        if pages is None:
            return
        key = slot(field.nodes)
        for item in items:
            attach(item, key, connection_from_page(pages[item.id]))
        children = [child for page in pages.values() for child in page.items]
        await prefetch(context, children, node_fields(field))

    return load
