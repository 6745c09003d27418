"""The breaking-change check of ``schema.graphql`` (``python -m server schema-diff``).

graphql-core's ``find_breaking_changes`` lists what an old client could trip over between two
SDL files. A breaking change is *announced* when

- its description, as this check prints it, appears in the announcements file
  (``schema-changes.md``), or
- it removes a field or an enum value that the old schema already marked ``@deprecated``
  (the deprecation period was the announcement).

Anything else fails the check. Dangerous changes (a new enum value, an argument default
changed, …) are printed and never fail it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from graphql import (
    BreakingChange,
    BreakingChangeType,
    DangerousChange,
    GraphQLEnumType,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
)

ANNOUNCEMENTS = Path("schema-changes.md")
DEPRECATION_COVERS = frozenset(
    {BreakingChangeType.FIELD_REMOVED, BreakingChangeType.VALUE_REMOVED_FROM_ENUM}
)


class SchemaUnreadable(Exception):
    """An SDL file that does not build into a schema."""


@dataclass(frozen=True, slots=True)
class SchemaDiff:
    breaking: list[BreakingChange]
    dangerous: list[DangerousChange]
    unannounced: list[BreakingChange]

    @property
    def ok(self) -> bool:
        return not self.unannounced

    def report(self) -> list[str]:
        lines: list[str] = []
        for change in self.breaking:
            state = "unannounced" if change in self.unannounced else "announced"
            lines.append(f"breaking ({state}): {change.description}")
        lines.extend(f"dangerous: {change.description}" for change in self.dangerous)
        if self.unannounced:
            lines.append(
                f"{len(self.unannounced)} unannounced breaking change(s): deprecate first, or "
                f"add each line after 'breaking (unannounced): ' to {ANNOUNCEMENTS}"
            )
        return lines


def load_schema(sdl: str, name: str) -> GraphQLSchema:
    try:
        return build_schema(sdl)
    except (GraphQLError, TypeError) as exc:
        raise SchemaUnreadable(f"{name}: {exc}") from exc


def deprecated_coordinates(schema: GraphQLSchema) -> set[str]:
    """``Type.field`` and ``Enum.VALUE`` of everything the schema marks ``@deprecated``."""
    found: set[str] = set()
    for type_ in schema.type_map.values():
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            found.update(
                f"{type_.name}.{name}"
                for name, field in type_.fields.items()
                if field.deprecation_reason is not None
            )
        elif isinstance(type_, GraphQLEnumType):
            found.update(
                f"{type_.name}.{name}"
                for name, value in type_.values.items()
                if value.deprecation_reason is not None
            )
    return found


def _announced(change: BreakingChange, announcements: str, deprecated: set[str]) -> bool:
    if change.description in announcements:
        return True
    return change.type in DEPRECATION_COVERS and any(
        f"{coordinate} was removed" in change.description for coordinate in deprecated
    )


def diff(old_sdl: str, new_sdl: str, announcements: str = "") -> SchemaDiff:
    old = load_schema(old_sdl, "old schema")
    new = load_schema(new_sdl, "new schema")
    breaking = find_breaking_changes(old, new)
    deprecated = deprecated_coordinates(old)
    return SchemaDiff(
        breaking=breaking,
        dangerous=find_dangerous_changes(old, new),
        unannounced=[
            change for change in breaking if not _announced(change, announcements, deprecated)
        ],
    )
