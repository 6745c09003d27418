"""Strawberry fields the executor may answer without Strawberry's resolver layers: "basic"
fields (an annotation read straight off the object) and resolvers of the object alone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLField


def basic_attribute(field: GraphQLField) -> str | None:
    """The attribute a Strawberry "basic" field reads (no arguments, no resolver of its own,
    no extensions, the default resolver), else None."""
    definition = field.extensions.get("strawberry-definition")
    if (
        definition is None
        or field.args
        or not definition.is_basic_field
        or definition.default_resolver is not getattr
        # Strawberry's resolver for a basic field (not a wrapper installed by us or others)
        or getattr(field.resolve, "__name__", None) != "_get_basic_result"
    ):
        return None
    name: str = definition.python_name
    return name


def object_only_resolver(field: GraphQLField) -> Callable[[Any], Any] | None:
    """A field whose Strawberry resolver is synchronous and takes nothing but its object
    (``self``, ``root`` or ``strawberry.Parent``: no info, no arguments, no extensions or
    permission classes), as a function of the object; else None. Without the info it cannot
    reach the request (its context, loaders, viewer): it computes from the object alone, as
    a global ID (``id``), a cursor or a connection's ``pageInfo`` do."""
    definition = field.extensions.get("strawberry-definition")
    if definition is None:
        return None
    resolver = definition.base_resolver
    if (
        resolver is None
        or field.args
        or definition.extensions
        or definition.is_async
        or resolver.info_parameter is not None
        # Strawberry's resolver for the field (not a wrapper installed by us or others)
        or getattr(field.resolve, "__name__", None) != "_resolver"
    ):
        return None
    as_self = resolver.self_parameter is not None
    # a `root: strawberry.Parent[...]` parameter is both Strawberry's root and parent one
    by_name = sorted(
        {
            parameter.name
            for parameter in (resolver.root_parameter, resolver.parent_parameter)
            if parameter is not None
        }
    )
    if len(resolver.signature.parameters) != as_self + len(by_name):
        return None
    function = resolver.wrapped_func

    def resolve(source: Any) -> Any:
        named = dict.fromkeys(by_name, source)
        return function(source, **named) if as_self else function(**named)

    return resolve
