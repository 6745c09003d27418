"""graphql-core execution tuned for Tortoise models.

Tortoise's ``Model`` defines ``__await__`` (``await instance`` returns itself), so
graphql-core's awaitable check treats every model a resolver returns as a value to await:
one coroutine (and, in lists, one task) per object, which made the "synchronous" nested
fields asynchronous after all. A model is a finished value here, never a pending one.
Measured by bench/run.py: about 22 → 15 ms CPU per request for the feed query.

graphql-core asks "is this awaitable?" about every resolved value and every completed one
(~1,800 times for the feed query), so the answer is kept per type: whether a value can be
awaited depends on its class, except for generators (a generator-based coroutine is a
generator flagged by ``types.coroutine``), which are asked every time.
"""

from __future__ import annotations

from collections.abc import Callable
from types import GeneratorType
from typing import Any

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from tortoise.models import Model

_AWAITABLE_BY_TYPE: dict[type, bool] = {}


def awaitable_check(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """``check`` (Strawberry's predicate), answered once per type; models are never
    awaitable."""

    def is_awaitable(value: Any) -> bool:
        value_type = type(value)
        verdict = _AWAITABLE_BY_TYPE.get(value_type)
        if verdict is not None:
            return verdict
        if value_type is GeneratorType:
            return check(value)
        verdict = not issubclass(value_type, Model) and check(value)
        _AWAITABLE_BY_TYPE[value_type] = verdict
        return verdict

    return is_awaitable


class ModelAwareExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.is_awaitable = awaitable_check(self.is_awaitable)  # type: ignore[assignment]
