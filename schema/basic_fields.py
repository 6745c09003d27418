"""Strawberry's "basic" fields: an annotation read straight off the object."""

from __future__ import annotations

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
