"""``schema.extensions.DirectHooksRunner``: a stage with one generator hook entered directly
(``OneHook``) behaves as Strawberry's context managers (``contextlib``) do; anything else,
and ``LIBRARY_SHORTCUTS=false``, takes Strawberry's own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import OperationContextManager
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext

from schema import build_schema
from schema.extensions import DirectHooksRunner, OneHook
from schema.tracing import OperationTracing
from tests.conftest import make_settings


class Boom(Exception):
    pass


class Other(Exception):
    pass


class Recording(SchemaExtension):
    """Records what its hooks see; ``on_operation`` sync, ``on_execute`` async."""

    def __init__(self, *, swallow: bool = False, replace: bool = False) -> None:
        self.seen: list[str] = []
        self.swallow = swallow
        self.replace = replace

    def on_operation(self) -> Iterator[None]:
        self.seen.append("enter")
        try:
            yield
        except Boom:
            self.seen.append("boom")
            if self.replace:
                raise Other from None
            if not self.swallow:
                raise
        self.seen.append("leave")

    async def on_execute(self) -> AsyncIterator[None]:
        self.seen.append("enter")
        try:
            yield
        except Boom:
            self.seen.append("boom")
            if self.replace:
                raise Other from None
            if not self.swallow:
                raise
        self.seen.append("leave")


class Plain(SchemaExtension):
    def on_operation(self) -> None:  # type: ignore[override]
        return None


class NoYield(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        return
        yield


def runner(*extensions: SchemaExtension) -> DirectHooksRunner:
    return DirectHooksRunner(execution_context=None, extensions=list(extensions))  # type: ignore[arg-type]


def stage(kind: str) -> Callable[[SchemaExtensionsRunner], Any]:
    return lambda run: run.operation() if kind == "sync" else run.executing()


async def outcome(extension: Recording, kind: str, body: BaseException | None) -> str:
    try:
        async with stage(kind)(runner(extension)):
            if body is not None:
                raise body
    except Exception as exc:  # noqa: BLE001
        return type(exc).__name__
    return "none"


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_single_generator_hook_is_entered_directly(kind: str) -> None:
    assert isinstance(stage(kind)(runner(Recording())), OneHook)


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_hook_runs_around_the_stage(kind: str) -> None:
    extension = Recording()

    assert await outcome(extension, kind, None) == "none"
    assert extension.seen == ["enter", "leave"]


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_an_exception_in_the_stage_reaches_the_hook_and_propagates(kind: str) -> None:
    extension = Recording()

    assert await outcome(extension, kind, Boom()) == "Boom"
    assert extension.seen == ["enter", "boom"]


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_hook_that_returns_after_an_exception_does_not_swallow_it(kind: str) -> None:
    extension = Recording(swallow=True)

    assert await outcome(extension, kind, Boom()) == "Boom"
    assert extension.seen == ["enter", "boom", "leave"]


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_hook_that_raises_another_exception_replaces_it(kind: str) -> None:
    extension = Recording(replace=True)

    assert await outcome(extension, kind, Boom()) == "Other"


async def test_a_hook_that_does_not_yield_is_an_error_as_in_contextlib() -> None:
    with pytest.raises(RuntimeError, match="didn't yield"):
        async with runner(NoYield()).operation():
            pass


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_the_same_outcomes_as_strawberrys_context_managers(kind: str) -> None:
    for options in ({}, {"swallow": True}, {"replace": True}):
        direct, stock = Recording(**options), Recording(**options)
        direct_outcome = await outcome(direct, kind, Boom())
        try:
            async with stage(kind)(SchemaExtensionsRunner(None, [stock])):  # type: ignore[arg-type]
                raise Boom
        except Exception as exc:  # noqa: BLE001
            stock_outcome = type(exc).__name__
        else:
            stock_outcome = "none"

        assert (direct_outcome, direct.seen) == (stock_outcome, stock.seen)


def test_two_hooks_in_one_stage_take_strawberrys_context_manager() -> None:
    assert isinstance(runner(Recording(), Recording()).operation(), OperationContextManager)


def test_a_hook_that_is_no_generator_takes_strawberrys_context_manager() -> None:
    assert isinstance(runner(Plain()).operation(), OperationContextManager)


def execution_context() -> ExecutionContext:
    return ExecutionContext(query="{ __typename }", schema=None, allowed_operations=())  # type: ignore[arg-type]


def test_the_schema_runs_its_hooks_directly_with_library_shortcuts() -> None:
    schema = build_schema(make_settings(library_shortcuts=True))

    made = schema.create_extensions_runner(execution_context(), schema.get_extensions())

    assert isinstance(made, DirectHooksRunner)
    assert isinstance(made.operation(), OneHook)


def test_with_tracing_the_operation_stage_takes_strawberrys_context_manager() -> None:
    schema = build_schema(
        make_settings(
            library_shortcuts=True, otel_sdk_disabled=False, otel_traces_exporter="console"
        )
    )

    made = schema.create_extensions_runner(execution_context(), schema.get_extensions())

    assert any(isinstance(e, OperationTracing) for e in made.extensions)
    assert isinstance(made.operation(), OperationContextManager)


def test_shortcuts_off_run_strawberrys_own_extensions_runner() -> None:
    schema = build_schema(make_settings(library_shortcuts=False))

    made = schema.create_extensions_runner(execution_context(), schema.get_extensions())

    assert type(made) is SchemaExtensionsRunner
