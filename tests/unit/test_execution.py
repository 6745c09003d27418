"""schema/execution.py: plain leaves are read without graphql-core's per-field machinery,
yet answer and fail exactly as graphql-core would; awaitable checks are kept per type."""

from __future__ import annotations

import asyncio
import enum
import hashlib
import inspect
from typing import Any

import pytest
import strawberry
from graphql.execution.executor import Executor
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.execution import (
    ModelAwareExecutionContext,
    awaitable_check,
    plain_leaf,
    plain_object,
)


@strawberry.enum
class Mood(enum.Enum):
    CALM = "calm"
    LOUD = "loud"


class Row:
    """A source object like a model: attributes, and a property that can fail."""

    def __init__(
        self,
        name: str | None,
        nickname: str | None = None,
        broken: bool = False,
        friend: Row | None = None,
        partner: Row | None = None,
    ):
        self.name = name
        self.nickname = nickname
        self.mood = Mood.LOUD
        self.broken = broken
        self.friend = friend
        self.partner = partner

    @property
    def motto(self) -> str:
        if self.broken:
            raise ValueError("no motto today")
        return "carpe diem"


@strawberry.type
class Person:
    name: str
    nickname: str | None
    mood: Mood
    motto: str
    friend: Person | None
    partner: Person

    @strawberry.field
    def shout(self, root: strawberry.Parent[Row]) -> str:
        return (root.name or "").upper()

    @strawberry.field
    async def later(self, root: strawberry.Parent[Row]) -> str:
        await asyncio.sleep(0)
        if root.broken:
            raise ValueError("not later either")
        return "soon"


@strawberry.type
class Query:
    @strawberry.field
    def people(self) -> list[Person]:
        return [Row("ada", "a"), Row("bob")]  # type: ignore[list-item]

    @strawberry.field
    def broken(self) -> Person | None:
        return Row("eve", broken=True)  # type: ignore[return-value]

    @strawberry.field
    def nameless(self) -> Person | None:
        return Row(None)  # type: ignore[return-value]

    @strawberry.field
    def circle(self) -> list[Person | None]:
        eve = Row("eve", broken=True)
        rows: list[Any] = [  # the objects behind the type, as models are
            Row("ada", friend=Row("bob"), partner=Row("cy")),
            Row("dan", friend=eve, partner=Row("fay")),
            Row("gus", friend=None, partner=eve),
            Row("hal", friend=Row(None), partner=Row("ivy")),
            Row("jo", friend=Row("kim", friend=Row("lu")), partner=None),
        ]
        return rows


def run(
    query: str, extensions: list[Any] | None = None, context_class: Any = ModelAwareExecutionContext
) -> Any:
    schema = strawberry.Schema(
        query=Query, extensions=extensions or [], execution_context_class=context_class
    )
    return asyncio.run(schema.execute(query))


@pytest.mark.parametrize(
    "query",
    [
        "{ circle { name friend { name motto } } }",
        "{ circle { name partner { name motto } } }",
        "{ circle { friend { name friend { name friend { name } } } } }",
        "{ circle { partner { partner { name } } } }",
        "{ circle { a: friend { name } b: friend { nickname mood } } }",
        "{ people { name partner { name } } }",
        "{ people { name friend { name } } circle { partner { motto } } }",
        "{ circle { friend { name later } partner { later } } }",
        "{ circle { later friend { friend { later } } } }",
    ],
)
def test_plain_objects_answer_and_fail_exactly_as_graphql_core_does(query: str):
    ours = run(query)
    reference = run(query, context_class=StrawberryGraphQLCoreExecutionContext)

    assert ours.data == reference.data
    assert [(e.message, e.path) for e in ours.errors or []] == [
        (e.message, e.path) for e in reference.errors or []
    ]


def run_incrementally(query: str, context_class: Any) -> list[Any]:
    """Every payload of ``query`` under @defer/@stream, formatted."""
    schema = strawberry.Schema(
        query=Query,
        execution_context_class=context_class,
        config=StrawberryConfig(enable_experimental_incremental_execution=True),
    )

    async def payloads() -> list[Any]:
        result: Any = await schema.execute(query)
        if not hasattr(result, "initial_result"):
            return [result.data, [(e.message, e.path) for e in result.errors or []]]
        found = [result.initial_result.formatted]
        found += [payload.formatted async for payload in result.subsequent_results]
        return found

    return asyncio.run(payloads())


@pytest.mark.parametrize(
    "query",
    [
        "{ circle { name ... @defer { friend { name motto } } } }",
        '{ circle { name ... @defer(label: "p") { partner { name motto } } } }',
        "{ circle { friend { name ... @defer { friend { name later } } } } }",
        "{ circle { friend { name } ... @defer { friend { nickname mood } } } }",
        "{ circle { partner { ... @defer { partner { name } } } } }",
        "{ people @stream(initialCount: 1) { name partner { name } } }",
        "{ circle @stream { name ... @defer { later friend { later } } } }",
        "{ people { name } ... @defer { circle { partner { motto } } } }",
    ],
)
def test_deferred_and_streamed_selections_answer_exactly_as_graphql_core_does(query: str):
    """The shortcuts hand a selection with @defer (and what a deferred or streamed part
    executes) to graphql-core's own path: every payload is the reference executor's."""
    ours = run_incrementally(query, ModelAwareExecutionContext)
    reference = run_incrementally(query, StrawberryGraphQLCoreExecutionContext)

    assert len(ours) > 1
    assert ours == reference


def test_plain_leaves_answer_what_the_objects_hold():
    result = run("{ people { name nickname mood motto shout } }")

    assert result.errors is None
    assert result.data == {
        "people": [
            {"name": "ada", "nickname": "a", "mood": "LOUD", "motto": "carpe diem", "shout": "ADA"},
            {
                "name": "bob",
                "nickname": None,
                "mood": "LOUD",
                "motto": "carpe diem",
                "shout": "BOB",
            },
        ]
    }


def test_a_failing_leaf_is_a_located_error_and_nulls_its_parent():
    result = run("{ broken { name motto } }")

    assert result.data == {"broken": None}
    [error] = result.errors
    assert error.message == "no motto today"
    assert error.path == ["broken", "motto"]


def test_null_in_a_non_null_leaf_is_graphql_cores_error():
    result = run("{ nameless { name } }")

    assert result.data == {"nameless": None}
    [error] = result.errors
    assert error.message == "Cannot return null for non-nullable field Person.name."


def test_leaves_go_through_a_resolve_extension_when_one_is_installed():
    class Upper(SchemaExtension):
        def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
            value = _next(root, info, *args, **kwargs)
            return value.upper() if isinstance(value, str) else value

    result = run("{ people { name } }", extensions=[Upper])

    assert result.data == {"people": [{"name": "ADA"}, {"name": "BOB"}]}


def test_only_argument_free_basic_scalar_and_enum_fields_are_plain_leaves():
    schema = strawberry.Schema(query=Query)
    person = schema._schema.type_map["Person"]
    query = schema._schema.type_map["Query"]

    assert plain_leaf(person.fields["name"]) is not None  # type: ignore[attr-defined]
    assert plain_leaf(person.fields["mood"]) is not None  # type: ignore[attr-defined]
    assert plain_leaf(person.fields["shout"]) is None  # type: ignore[attr-defined]
    assert plain_leaf(query.fields["people"]) is None  # type: ignore[attr-defined]
    assert plain_object(person.fields["friend"]) is not None  # type: ignore[attr-defined]
    assert plain_object(person.fields["name"]) is None  # type: ignore[attr-defined]
    assert plain_object(query.fields["circle"]) is None  # type: ignore[attr-defined]


def test_awaitability_is_judged_per_type_except_for_generators():
    asked: list[object] = []

    def check(value: object) -> bool:
        asked.append(value)
        return hasattr(value, "__await__")

    is_awaitable = awaitable_check(check)

    class Pending:
        def __await__(self) -> Any:
            yield

    def generator() -> Any:
        yield

    assert is_awaitable(Pending())
    assert is_awaitable(Pending())
    assert not is_awaitable(generator())
    assert not is_awaitable(generator())
    assert [type(value).__name__ for value in asked] == ["Pending", "generator", "generator"]


# ModelAwareExecutionContext.execute_fields and .complete_list_item_value, and
# CompiledExecutionContext.complete_awaitable_value, are graphql-core 3.3.2's methods with the
# shortcuts (or the plan) inline. When graphql-core changes one, merge the change in and record
# the new digest.
COPIED_FROM = {
    "complete_awaitable_value": "9a67e9f91f0aac5ca3f186e44d1467d82a6ed1abb2b832b54eff9ec192cf3acd",
    "execute_fields": "797f54fbd779b4e381b688bce8e249abffa2e057974676e5f5ef3cefc0ff654c",
    "complete_list_item_value": "8883b4d65a1ae09935ff6f982cf6dfc235500681929ea58a7dabb121fae691d1",
}


@pytest.mark.parametrize("method", sorted(COPIED_FROM))
def test_the_replaced_graphql_core_methods_are_still_the_ones_they_were_copied_from(method: str):
    source = inspect.getsource(getattr(Executor, method))

    assert hashlib.sha256(source.encode()).hexdigest() == COPIED_FROM[method]
