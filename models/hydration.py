"""Building model instances from full database rows, faster than Tortoise 1.1 does it.

``Model._init_from_db`` sets the instance's four state attributes through
``Model.__setattr__`` (a relation check and a dict lookup each) and every column through
``object.__setattr__``. ``FastHydration`` computes the same values with the same
converters, then fills the instance's ``__dict__`` at once; rows missing a column (``.only``
queries) take Tortoise's own path, and so does every row while ``LIBRARY_SHORTCUTS=false``
(``core.shortcuts``). tests/integration/test_hydration.py pins it to Tortoise's result.
"""

from __future__ import annotations

from typing import Any, Self, TypeVar

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
            for key, model_field, field in meta.db_complex_fields:
                values[model_field] = field.to_python_value(kwargs[key])
        except KeyError:
            return super()._init_from_db(**kwargs)
        return loaded_instance(cls, values)


M = TypeVar("M", bound=Model)


# The state ``_init_from_db`` gives every loaded instance of a model, by model class. Filled
# on first use, after ``Tortoise.init`` has set ``generated_db_fields``.
_loaded_states: dict[type[Model], dict[str, Any]] = {}


def _loaded_state(model_class: type[Model]) -> dict[str, Any]:
    meta = model_class._meta
    state = {
        "_partial": False,
        "_saved_in_db": True,
        "_custom_generated_pk": meta.db_pk_column not in meta.generated_db_fields,
    }
    _loaded_states[model_class] = state
    return state


def loaded_instance(model_class: type[M], values: dict[str, Any]) -> M:
    """An instance holding ``values`` (Python values by field name), in the state
    ``_init_from_db`` leaves a row read from the database."""
    instance = model_class.__new__(model_class)
    state = instance.__dict__
    state.update(_loaded_states.get(model_class) or _loaded_state(model_class))
    state["_await_when_save"] = {}
    state.update(values)
    return instance
