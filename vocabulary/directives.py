"""The schema directives declared where a field or argument is: ``@cost`` and ``@listSize``
(IBM's GraphQL Cost Directive spec, read by the cost analysis, ``schema/cost.py``) and
``@maxLength`` (read by the input rules, ``schema/input_rules.py``)."""

from __future__ import annotations

import strawberry
from strawberry.schema_directive import Location

from services.pagination import DEFAULT_PAGE_SIZE

SLICING_ARGUMENTS = ("first", "last")
SIZED_FIELDS = ("edges", "nodes")
LIMIT_ARGUMENT = "limit"
# The most IDs one `nodes(ids:)` may ask for; its @listSize assumes as many, so the price a
# gateway reads from the SDL holds for every NODES_MAX_IDS setting.
MAX_NODES_IDS = 100


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    description="Query cost of this field: `weight` is charged once per resolved value.",
)
class Cost:
    weight: int


def cost(weight: int) -> Cost:
    """A field's cost, declared where the field is: ``strawberry.field(directives=[cost(3)])``."""
    return Cost(weight=weight)


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="listSize",
    description=(
        "The size of a list (IBM GraphQL Cost Directive spec): the largest of the "
        "`slicingArguments` given, else `assumedSize`; on a connection it sizes the "
        "`sizedFields` below it."
    ),
)
class ListSize:
    assumed_size: int | None = strawberry.UNSET
    slicing_arguments: list[str] | None = strawberry.UNSET
    sized_fields: list[str] | None = strawberry.UNSET
    require_one_slicing_argument: bool | None = True


def list_size(
    *,
    assumed_size: int | None = None,
    slicing_arguments: tuple[str, ...] = (),
    sized_fields: tuple[str, ...] = (),
) -> ListSize:
    """A list's size, declared where the field is. A slicing argument is never required
    here: without one the list is priced at ``assumed_size``."""
    return ListSize(
        assumed_size=strawberry.UNSET if assumed_size is None else assumed_size,
        slicing_arguments=list(slicing_arguments) if slicing_arguments else strawberry.UNSET,
        sized_fields=list(sized_fields) if sized_fields else strawberry.UNSET,
        require_one_slicing_argument=False if slicing_arguments else strawberry.UNSET,
    )


def connection_size() -> ListSize:
    """``@listSize`` of every connection field: pages of ``first``/``last``, 20 by default."""
    return list_size(
        assumed_size=DEFAULT_PAGE_SIZE,
        slicing_arguments=SLICING_ARGUMENTS,
        sized_fields=SIZED_FIELDS,
    )


def limit_size(default: int) -> ListSize:
    """``@listSize`` of a list sized by its own ``limit`` argument (default ``default``)."""
    return list_size(assumed_size=default, slicing_arguments=(LIMIT_ARGUMENT,))


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
