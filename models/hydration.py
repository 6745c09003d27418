"""Building model instances from full database rows, faster than Tortoise 1.1 does it.

``Model._init_from_db`` sets the instance's four state attributes through
``Model.__setattr__`` (a relation check and a dict lookup each) and every column through
``object.__setattr__``. ``FastHydration`` computes the same values with the same
converters, then fills the instance's ``__dict__`` at once; rows missing a column (``.only``
queries) take Tortoise's own path, and so does every row while ``LIBRARY_SHORTCUTS=false``
(``core.shortcuts``). tests/integration/test_hydration.py pins it to Tortoise's result.

A ``DatetimeField`` converts each value through four calls (``get_use_tz``, ``is_naive``,
``get_default_timezone``, ``astimezone``). asyncpg returns ``timestamptz`` values in
``datetime.timezone.utc``; when Tortoise's zone is UTC (``use_tz`` with ``timezone="UTC"``,
as ``server/database.py`` configures it) that conversion only swaps the zero-offset tzinfo
for Tortoise's ``ZoneInfo("UTC")`` (same instant, ``fold`` 0), so such values are swapped
directly; anything else (another zone, a naive or non-UTC value, SQLite's strings) takes
``to_python_value``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Self, TypeVar

from tortoise import timezone
from tortoise.fields import DatetimeField
from tortoise.models import Model

from core import shortcuts


class FastHydration(Model):
    class Meta:
        abstract = True

    @classmethod
    def _init_from_db(cls, **kwargs: Any) -> Self:
        if not shortcuts.enabled:
            return super()._init_from_db(**kwargs)
        meta = cls._meta
        try:
            values = {model_field: kwargs[key] for key, model_field, _ in meta.db_native_fields}
            for key, model_field, field in meta.db_default_fields:
                value = kwargs[key]
                values[model_field] = None if value is None else field.field_type(value)
            # inline (no frame per row): Tortoise's zone when it is UTC and datetimes aware
            zone = timezone.get_default_timezone()
            utc_zone = (
                zone if timezone.get_use_tz() and getattr(zone, "key", None) == "UTC" else None
            )
            for key, model_field, field in meta.db_complex_fields:
                value = kwargs[key]
                if (
                    utc_zone is not None
                    and value.__class__ is datetime
                    and value.tzinfo is UTC
                    and field.__class__ is DatetimeField
                ):
                    values[model_field] = value.replace(tzinfo=utc_zone, fold=0)
                else:
                    values[model_field] = field.to_python_value(value)
        except KeyError:
            return super()._init_from_db(**kwargs)
        return loaded_instance(cls, values)


M = TypeVar("M", bound=Model)


def loaded_instance(model_class: type[M], values: dict[str, Any]) -> M:
    """An instance holding ``values`` (Python values by field name), in the state
    ``_init_from_db`` leaves a row read from the database."""
    meta = model_class._meta
    instance = model_class.__new__(model_class)
    state = instance.__dict__
    state["_partial"] = False
    state["_saved_in_db"] = True
    state["_custom_generated_pk"] = meta.db_pk_column not in meta.generated_db_fields
    state["_await_when_save"] = {}
    state.update(values)
    return instance
