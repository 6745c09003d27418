"""``is_type_of`` checks whose answer depends on the object's class alone.

A Strawberry type's ``is_type_of(obj, info)`` may look at the instance (Strawberry's own
reads a ``strawberry.cast`` mark), so an executor has to ask it about every object. One
marked ``@decided_by_class`` promises that every instance of a class gets the same answer
(``isinstance`` against fixed classes, as each of our model-backed types does), so a
compiled plan (``schema/compiled_plan.py``) asks once per class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

DECIDED_BY_CLASS = "__agora_decided_by_class__"

F = TypeVar("F", bound=Callable[..., Any])


def decided_by_class(is_type_of: F) -> F:
    """Mark an ``is_type_of`` (below ``@classmethod``) as answered by the object's class."""
    setattr(is_type_of, DECIDED_BY_CLASS, True)
    return is_type_of


def is_decided_by_class(is_type_of: Callable[..., Any]) -> bool:
    """Whether ``is_type_of`` (a bound classmethod or a function) was marked."""
    function = getattr(is_type_of, "__func__", is_type_of)
    return getattr(function, DECIDED_BY_CLASS, False) is True
