"""schema/compiled_plan.py: a compiled plan completes what an asynchronous resolver
returned exactly as graphql-core does (data, errors, their paths and order), and hands
whatever it cannot answer to graphql-core's own path."""

from __future__ import annotations

import asyncio
import enum
from typing import Any

import pytest
import strawberry
from graphql import (
    FieldNode,
    GraphQLInterfaceType,
    GraphQLObjectType,
    OperationDefinitionNode,
    parse,
)
from graphql.execution.collect_fields import FieldDetails, collect_subfields
from graphql.execution.values import VariableValues
from strawberry.permission import BasePermission
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.compiled_plan import BAIL, NotCompilable, PlanCompiler
from schema.execution import _PLAN_IS_AWAITABLE, CompiledExecutionContext
from schema.plan_checks import PLAN_CHECKS
from vocabulary.type_checks import decided_by_class


@strawberry.enum
class Mood(enum.Enum):
    CALM = "calm"
    LOUD = "loud"


class Row:
    def __init__(
        self,
        name: str | None,
        friend: Row | None = None,
        partner: Row | None = None,
        broken: bool = False,
        score: Any = 7,
        friends: list[Row | None] | None = None,
    ) -> None:
        self.name = name
        self.friend = friend
        self.partner = partner
        self.broken = broken
        self.score = score
        self.mood = Mood.CALM
        self.friends = friends or []

    @property
    def motto(self) -> str:
        if self.broken:
            raise ValueError("no motto today")
        return "carpe diem"


class Nobody(BasePermission):
    message = "not for you"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


@strawberry.type
class Person:
    name: str
    motto: str
    mood: Mood
    score: int
    friend: Person | None
    partner: Person
    friends: list[Person | None]

    @strawberry.field
    def upper(self, root: strawberry.Parent[Row]) -> str:
        return (root.name or "").upper()

    @strawberry.field
    def fragile(self) -> str:
        if self.broken:  # type: ignore[attr-defined]  # self is the Row
            raise ValueError("too fragile")
        return "fine"

    @strawberry.field
    def greeting(self, info: strawberry.Info) -> str:
        return "hello"

    @strawberry.field(permission_classes=[Nobody])
    def secret(self) -> str | None:
        return "hidden"

    @strawberry.field
    async def later(self, root: strawberry.Parent[Row]) -> str:
        if root.broken:
            raise ValueError("not later either")
        return "soon"


def circle() -> list[Row | None]:
    eve = Row("eve", broken=True)
    return [
        Row("ada", friend=Row("bob"), partner=Row("cy"), friends=[Row("dan"), None]),
        Row("dan", friend=eve, partner=Row("fay"), score=2**40),
        None,
        Row("gus", friend=None, partner=eve, score=True),
        Row("hal", friend=Row(None), partner=Row("ivy"), score="8"),
    ]


@strawberry.type
class Query:
    @strawberry.field
    async def circle(self) -> list[Person | None]:
        return circle()  # type: ignore[return-value]

    @strawberry.field
    async def strict(self) -> list[Person]:
        return circle()  # type: ignore[return-value]

    @strawberry.field
    async def first(self) -> Person:
        return Row("ada", friend=Row("bob"), partner=Row("cy"))  # type: ignore[return-value]

    @strawberry.field
    async def names(self) -> list[str | None]:
        return ["a", None, "b"]

    @strawberry.field
    def plain(self) -> Person:
        return Row("sync", partner=Row("p"))  # type: ignore[return-value]


def execute(query: str, context_class: Any, variables: dict[str, Any] | None = None) -> Any:
    schema = strawberry.Schema(
        query=Query,
        execution_context_class=context_class,
        config=StrawberryConfig(enable_experimental_incremental_execution=True),
    )

    async def answer() -> Any:
        result: Any = await schema.execute(query, variable_values=variables)
        if hasattr(result, "initial_result"):
            found = [result.initial_result.formatted]
            found += [payload.formatted async for payload in result.subsequent_results]
            return found
        return [result.data, [error.formatted for error in result.errors or []]]

    return asyncio.run(answer())


PLANNED = [
    "{ first { name mood score friend { name } partner { name motto } } }",
    "{ circle { name mood } }",
    "{ circle { __typename n: name ...on Person { mood } ...F } } fragment F on Person { name }",
    "{ circle { friends { name } } first { friends { name friends { name } } } }",
    "{ names }",
    "{ a: first { name } b: first { partner { name } } }",
    # resolvers of the object alone (no info, no arguments) are called by the plan
    "{ circle { upper fragile } first { friend { upper } } }",
]

FALLING_BACK = [
    # a failing property, a null in non-null positions, an Int out of range, a bool and a
    # string where an Int belongs: the plan gives up, graphql-core reports each
    "{ circle { name motto } }",
    "{ circle { partner { name motto } } }",
    "{ strict { name } }",
    "{ circle { name friend { name } } }",
    "{ circle { name score } }",
    "{ first { partner { fragile } friend { fragile } } circle { friend { fragile } } }",
    # a field with a resolver of its own (async, or permission classes) below the root
    "{ circle { name later } }",
    "{ circle { friends { name secret } } }",
    "{ first { friend { later } partner { secret } } }",
    # deferred and streamed selections
    "{ first { name ... @defer { partner { name } } } }",
    "{ circle @stream(initialCount: 1) { name } }",
]


@pytest.mark.parametrize("query", PLANNED + FALLING_BACK)
def test_plans_answer_and_fail_exactly_as_graphql_core_does(query: str):
    reference = execute(query, StrawberryGraphQLCoreExecutionContext)

    assert execute(query, CompiledExecutionContext) == reference
    assert execute(query, CompiledExecutionContext) == reference  # the cached plan


@pytest.mark.parametrize("query", PLANNED)
def test_plain_selections_below_an_asynchronous_resolver_are_completed_by_a_plan(query: str):
    PLAN_CHECKS.completed = 0

    execute(query, CompiledExecutionContext)

    assert PLAN_CHECKS.completed >= 1


@pytest.mark.parametrize(
    ("query", "planned"),
    [
        # the list has no plan; each `later` (async) value below it has its own
        ("{ circle { name later } }", 4),
        ("{ circle { friends { secret } } }", 0),
        ("{ circle { greeting } }", 0),  # a resolver taking the info
        ("{ first { name ... @defer { partner { name } } } }", 0),
        ("{ plain { name } }", 0),  # a synchronous resolver: graphql-core's path
    ],
)
def test_selections_with_resolvers_or_defer_have_no_plan(query: str, planned: int):
    PLAN_CHECKS.completed = 0

    execute(query, CompiledExecutionContext)

    assert PLAN_CHECKS.completed == planned


@pytest.mark.parametrize("skip", [True, False])
def test_a_plan_is_kept_per_value_of_the_skip_and_include_variables(skip: bool):
    query = "query($s: Boolean!) { first { name partner @skip(if: $s) { name } } }"
    reference = execute(query, StrawberryGraphQLCoreExecutionContext, {"s": skip})

    assert execute(query, CompiledExecutionContext, {"s": skip}) == reference
    assert execute(query, CompiledExecutionContext, {"s": not skip}) != reference


def compile_first_field(query: str) -> Any:
    """The plan completing the value of the query's first root field (a Person)."""
    graphql_schema = strawberry.Schema(query=Query)._schema
    operation = parse(query).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    root = operation.selection_set.selections[0]
    person = graphql_schema.type_map["Person"]
    assert isinstance(root, FieldNode)
    assert isinstance(person, GraphQLObjectType)

    def collect(type_: GraphQLObjectType, fields: Any) -> Any:
        variables = VariableValues({}, {})
        return collect_subfields(graphql_schema, {}, variables, operation, type_, fields)

    return PlanCompiler(collect, _PLAN_IS_AWAITABLE).compile(person, [FieldDetails(root, None)])


def test_a_plan_bails_where_graphql_core_would_report():
    completer = compile_first_field("{ first { name partner { name } } }")

    assert completer(Row("ada", partner=Row("cy"))) == {"name": "ada", "partner": {"name": "cy"}}
    assert completer(Row("ada")) is BAIL  # null for the non-null partner
    assert completer(Row(None, partner=Row("cy"))) is BAIL
    assert completer(object()) is BAIL


def test_an_abstract_type_is_not_compiled():
    compiler = PlanCompiler(lambda *_: ({}, (), None), _PLAN_IS_AWAITABLE)
    with pytest.raises(NotCompilable):
        compiler.compile(GraphQLInterfaceType("Thing", {}), [])


class Pet:
    def __init__(self, name: str) -> None:
        self.name = name


class Stone:
    name = "rock"


ASKED: list[str] = []


@strawberry.type
class ByClass:
    name: str

    @classmethod
    @decided_by_class
    def is_type_of(cls, obj: object, _info: object) -> bool:
        ASKED.append("by class")
        return isinstance(obj, (Pet, cls))


@strawberry.type
class ByInstance:
    name: str

    @classmethod
    def is_type_of(cls, obj: object, _info: object) -> bool:
        ASKED.append("by instance")
        return isinstance(obj, (Pet, cls))


@strawberry.type
class PetQuery:
    @strawberry.field
    async def by_class(self) -> list[ByClass]:
        return [Pet("a"), Pet("b"), Pet("c")]  # type: ignore[list-item]

    @strawberry.field
    async def by_instance(self) -> list[ByInstance]:
        return [Pet("a"), Pet("b"), Pet("c")]  # type: ignore[list-item]


def compile_pets(query: str) -> Any:
    graphql_schema = strawberry.Schema(query=PetQuery)._schema
    operation = parse(query).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    root = operation.selection_set.selections[0]
    assert isinstance(root, FieldNode)
    pets = graphql_schema.query_type.fields[root.name.value].type  # type: ignore[union-attr]

    def collect(type_: GraphQLObjectType, fields: Any) -> Any:
        variables = VariableValues({}, {})
        return collect_subfields(graphql_schema, {}, variables, operation, type_, fields)

    return PlanCompiler(collect, _PLAN_IS_AWAITABLE).compile(pets, [FieldDetails(root, None)])


def test_an_is_type_of_decided_by_class_is_asked_once_per_class():
    completer = compile_pets("{ byClass { name } }")
    ASKED.clear()

    assert completer([Pet("a"), Pet("b")]) == [{"name": "a"}, {"name": "b"}]
    assert completer([Pet("c")]) == [{"name": "c"}]
    assert ASKED == ["by class"]


def test_a_class_failing_an_is_type_of_decided_by_class_bails_every_time():
    completer = compile_pets("{ byClass { name } }")
    ASKED.clear()

    assert completer([Stone()]) is BAIL
    assert completer([Pet("a"), Stone()]) is BAIL
    assert ASKED == ["by class", "by class", "by class"]


def test_an_unmarked_is_type_of_is_asked_about_every_object():
    completer = compile_pets("{ byInstance { name } }")
    ASKED.clear()

    assert completer([Pet("a"), Pet("b")]) == [{"name": "a"}, {"name": "b"}]
    assert ASKED == ["by instance", "by instance"]


@pytest.mark.parametrize("query", ["{ byClass { name } }", "{ byInstance { name } }"])
def test_plans_with_is_type_of_answer_as_graphql_core_does(query: str):
    def run(context_class: Any) -> Any:
        schema = strawberry.Schema(query=PetQuery, execution_context_class=context_class)
        result = asyncio.run(schema.execute(query))
        return [result.data, [error.formatted for error in result.errors or []]]

    reference = run(StrawberryGraphQLCoreExecutionContext)

    assert run(CompiledExecutionContext) == reference
    assert run(CompiledExecutionContext) == reference
