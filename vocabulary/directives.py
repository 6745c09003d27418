"""The schema directives declared where a field or argument is: ``@cost`` (read by the cost
analysis, ``schema/cost.py``) and ``@maxLength`` (read by the input rules,
``schema/input_rules.py``)."""

from __future__ import annotations

import strawberry
from strawberry.schema_directive import Location


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    description=(
        "Query cost of this field: `weight` is charged once per resolved value; "
        "`assumedSize` is the expected length of a list without first/last."
    ),
)
class Cost:
    weight: int
    assumed_size: int | None = strawberry.UNSET


def cost(weight: int, assumed_size: int | None = None) -> Cost:
    """A field's cost, declared where the field is: ``strawberry.field(directives=[cost(3)])``."""
    if assumed_size is None:
        return Cost(weight=weight)
    return Cost(weight=weight, assumed_size=assumed_size)


@strawberry.schema_directive(
    locations=[Location.ARGUMENT_DEFINITION, Location.INPUT_FIELD_DEFINITION],
    description=(
        "The longest string accepted here, in characters (for a list, per item); longer is "
        "BAD_USER_INPUT. Every String and ID input is at most 100000 characters and contains "
        "no NUL character."
    ),
)
class MaxLength:
    value: int


def max_length(value: int) -> MaxLength:
    """An argument's or input field's limit: ``strawberry.argument(directives=[...])``."""
    return MaxLength(value=value)
