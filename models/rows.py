"""Model instances from the rows of the statements we write by hand, read by position.

Tortoise 1.1's ``Model.raw`` hands each row to ``_init_from_db(**row)``: the driver's row
(an asyncpg ``Record``, a ``sqlite3.Row``) unpacked as keyword arguments by column name.
``fetch_models`` runs the same statement on the connection ``Model.raw`` would choose and
builds every instance with a function generated once per (model, columns of the result,
time zone): it reads each value by position and converts it as ``_init_from_db`` does
(driver-native fields as they are, ``field_type(value)`` for the default ones,
``to_python_value`` for the others), then fills ``__dict__`` as ``loaded_instance`` does.
Columns that are not fields (a window's ``row_rank``) are dropped, as ``_init_from_db``
drops them; a result missing a field's column takes Tortoise's per-row path. With
``LIBRARY_SHORTCUTS=false`` every statement goes through ``Model.raw`` itself.
tests/integration/test_rows.py pins the instances to Tortoise's on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any, TypeVar

from tortoise.backends.base.executor import CHUNK_SIZE
from tortoise.fields.data import CharEnumFieldInstance, DatetimeField
from tortoise.models import Model
from tortoise.timezone import get_default_timezone, get_use_tz

from core import shortcuts

M = TypeVar("M", bound=Model)

Hydrator = Callable[[Any], Any]

_hydrators: dict[tuple[type[Model], tuple[str, ...], tzinfo | None], Hydrator | None] = {}


def distinct_ids(ids: Iterable[int]) -> list[int]:
    """The distinct ids in ascending order; anything that is not an integer raises."""
    return sorted({int(pk) for pk in ids})


def id_list(ids: Iterable[int]) -> str:
    """The distinct ids as the inside of a SQL ``IN (…)``, in ascending order ("" for none);
    anything that is not an integer raises."""
    return ",".join(map(str, distinct_ids(ids)))


def takes_id_arrays(model: type[Model]) -> bool:
    """Whether ``model``'s database takes a list of ids as one parameter (PostgreSQL's
    ``= ANY($1::bigint[])``). The statement's text is then the same whatever the ids, so the
    driver prepares it once (asyncpg keeps 100 prepared statements per connection) and the
    server parses it once, where ids written into the text made every distinct set of ids a
    new statement: a parse and a plan in PostgreSQL and an extra round trip per request."""
    return bool(model._choose_db().capabilities.dialect == "postgres")


async def fetch_models(model: type[M], sql: str, values: list[Any] | None = None) -> list[M]:
    """The instances ``await model.raw(sql)`` returns, for a statement reading ``model``'s
    table (``sql`` is built by our code: only integers and our identifiers in it; ``values``
    fill its parameters)."""
    if not shortcuts.enabled:
        if values is None:
            return await model.raw(sql)
        # Model.raw takes no parameters: Tortoise's own per-row path, as execute_select has it
        _, found = await model._choose_db().execute_query(sql, values)
        return [model._init_from_db(**row) for row in found]
    _, rows = await model._choose_db().execute_query(sql, values)
    if not rows:
        return []
    hydrate = hydrator(model, tuple(rows[0].keys()))
    if hydrate is None:
        return [model._init_from_db(**row) for row in rows]
    if len(rows) <= CHUNK_SIZE:
        return list(map(hydrate, rows))
    return await _in_chunks(hydrate, rows)


async def _in_chunks(hydrate: Hydrator, rows: Sequence[Any]) -> list[Any]:
    """As Tortoise's ``execute_select``: a large result lets the event loop run between
    chunks of ``CHUNK_SIZE`` rows."""
    instances: list[Any] = []
    for start in range(0, len(rows), CHUNK_SIZE):
        if start:
            await asyncio.sleep(0)
        instances.extend(map(hydrate, rows[start : start + CHUNK_SIZE]))
    return instances


async def models_by_ids(model: type[M], ids: Iterable[int]) -> list[M]:
    """The rows of ``model`` with these primary keys (in no particular order)."""
    wanted = distinct_ids(ids)
    if not wanted:
        return []
    meta = model._meta
    select = f'SELECT * FROM "{meta.db_table}" WHERE "{meta.db_pk_column}"'  # noqa: S608
    if takes_id_arrays(model):
        return await fetch_models(model, f"{select} = ANY($1::bigint[])", [wanted])
    return await fetch_models(model, f"{select} IN ({','.join(map(str, wanted))})")


def hydrator(model: type[Model], columns: tuple[str, ...]) -> Hydrator | None:
    """The function building ``model``'s instance from a row with these columns (None when
    a field's column is missing or a name repeats: Tortoise's own path then)."""
    zone = get_default_timezone() if get_use_tz() else None
    key = (model, columns, zone)
    try:
        return _hydrators[key]
    except KeyError:
        made = _hydrators[key] = _generate(model, columns, zone)
        return made


def _generate(model: type[Model], columns: tuple[str, ...], zone: tzinfo | None) -> Hydrator | None:
    position = {column: index for index, column in enumerate(columns)}
    meta = model._meta
    if len(position) != len(columns) or any(
        key not in position
        for fields in (meta.db_native_fields, meta.db_default_fields, meta.db_complex_fields)
        for key, _, _ in fields
    ):
        return None
    namespace: dict[str, Any] = {
        "model": model,
        "new": model.__new__,
        "custom_pk": meta.db_pk_column not in meta.generated_db_fields,
        "datetime": datetime,
        "utc": UTC,
        "zone": zone,
    }
    entries = [
        "'_partial': False",
        "'_saved_in_db': True",
        "'_custom_generated_pk': custom_pk",
        "'_await_when_save': {}",
    ]
    for key, model_field, _ in meta.db_native_fields:
        entries.append(f"{model_field!r}: row[{position[key]}]")
    for key, model_field, field in meta.db_default_fields:
        index = position[key]
        namespace[f"type_{index}"] = field.field_type
        entries.append(f"{model_field!r}: None if (v := row[{index}]) is None else type_{index}(v)")
    for key, model_field, field in meta.db_complex_fields:
        entries.append(f"{model_field!r}: {_conversion(field, position[key], zone, namespace)}")
    source = (
        "def hydrate(row):\n"
        "    instance = new(model)\n"
        f"    instance.__dict__.update({{{', '.join(entries)}}})\n"
        "    return instance\n"
    )
    # The source holds only our models' field names (as literals) and column positions.
    exec(source, namespace)  # noqa: S102
    hydrate: Hydrator = namespace["hydrate"]
    return hydrate


def _conversion(field: Any, index: int, zone: tzinfo | None, namespace: dict[str, Any]) -> str:
    """The expression giving ``field.to_python_value(row[index])``, inlined for the
    converters whose code is known."""
    converter = type(field).to_python_value
    if converter is CharEnumFieldInstance.to_python_value:
        namespace[f"enum_{index}"] = field.enum_type
        return f"None if (v := row[{index}]) is None else enum_{index}(v)"
    namespace[f"convert_{index}"] = field.to_python_value
    if converter is DatetimeField.to_python_value and zone is not None:
        # asyncpg returns timestamptz values as datetimes in ``datetime.timezone.utc``:
        # aware, so Tortoise's converter (use_tz) gives ``value.astimezone(zone)``.
        return (
            f"None if (v := row[{index}]) is None else v.astimezone(zone) "
            f"if v.__class__ is datetime and v.tzinfo is utc else convert_{index}(v)"
        )
    return f"convert_{index}(row[{index}])"
