"""The README's table of cache hints ("HTTP caching of GET queries") is the schema's: every
``@cacheControl`` on a type or field is listed in the row of its hint, and every name a row
lists carries that hint."""

from __future__ import annotations

import re
from pathlib import Path

from graphql import GraphQLObjectType

from schema import build_schema
from schema.cache_control import Hint, declared_hint
from tests.conftest import make_settings
from vocabulary.cache_hints import CacheControlScope

README = Path(__file__).resolve().parents[2] / "README.md"
WRAPPERS = ("Connection", "Edge")


def documented() -> dict[str, Hint]:
    """Each name the table lists, with the hint of its row (rows "none" are skipped)."""
    section = README.read_text().split("### HTTP caching of GET queries", 1)[1]
    table = section.split("| hint | on |", 1)[1].split("\n\n", 1)[0]
    names: dict[str, Hint] = {}
    for row in table.strip().splitlines()[1:]:
        label, listed = row.strip("|").split("|", 1)
        if label.strip() == "none":
            continue
        max_age = re.search(r"maxAge: (\d+)", label)
        hint = Hint(
            int(max_age.group(1)) if max_age else None,
            CacheControlScope.PRIVATE if "scope: PRIVATE" in label else None,
            "inheritMaxAge: true" in label,
        )
        for quoted in re.findall(r"`([^`]+)`", listed):
            name = quoted.split("(", 1)[0]  # `file(id:)` is the field `file`
            if name.startswith("…") or re.fullmatch(r"[A-Za-z][A-Za-z.]*", name):
                names[name] = hint
    return names


def declared() -> dict[str, Hint]:
    """Each hinted type and field as the README names it: ``Type``, ``Type.field``, and root
    query fields by their name alone."""
    schema = build_schema(make_settings())._schema
    names: dict[str, Hint] = {}
    for type_ in schema.type_map.values():
        if type_.name.startswith("__"):
            continue
        hint = declared_hint(type_)
        if hint is not None:
            wrapper = next((w for w in WRAPPERS if type_.name.endswith(w)), None)
            names[f"…{wrapper}" if wrapper else type_.name] = hint
        if isinstance(type_, GraphQLObjectType):
            for field_name, field in type_.fields.items():
                field_hint = declared_hint(field)
                if field_hint is not None:
                    is_root = type_ is schema.query_type
                    names[field_name if is_root else f"{type_.name}.{field_name}"] = field_hint
    return names


def test_every_declared_hint_is_in_the_readme_table_under_its_hint() -> None:
    table = documented()
    missing_or_wrong = {name: hint for name, hint in declared().items() if table.get(name) != hint}
    assert not missing_or_wrong


def test_every_name_the_readme_table_lists_carries_that_hint() -> None:
    hints = declared()
    wrong = {name: hint for name, hint in documented().items() if hints.get(name) != hint}
    assert not wrong
