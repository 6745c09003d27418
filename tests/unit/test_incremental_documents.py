"""Whether an operation asks for incremental delivery, as graphql-core decides it: an
@defer or @stream whose ``if`` is not false, in the operation being run, through fragments,
and not under a selection @skip/@include leaves out."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse

from schema.incremental import uses_incremental_delivery


@pytest.mark.parametrize(
    ("document", "variables", "expected"),
    [
        ("{ a { ... @defer { b } } }", {}, True),
        ("{ a @stream { b } }", {}, True),
        ("{ a @stream(initialCount: 2) { b } }", {}, True),
        ("{ a { ...F @defer } } fragment F on A { b }", {}, True),
        ("{ a { ...F } } fragment F on A { c { ... @defer { d } } }", {}, True),
        ("{ a { ... @defer(if: true) { b } } }", {}, True),
        ("{ a { ... @defer(if: false) { b } } }", {}, False),
        ("{ a @stream(if: false) { b } }", {}, False),
        ("query($d: Boolean!) { a { ... @defer(if: $d) { b } } }", {"d": False}, False),
        ("query($d: Boolean!) { a { ... @defer(if: $d) { b } } }", {"d": True}, True),
        ("query($d: Boolean = false) { a { ... @defer(if: $d) { b } } }", {}, False),
        ("query($d: Boolean = false) { a { ... @defer(if: $d) { b } } }", {"d": True}, True),
        ("{ a @skip(if: true) { ... @defer { b } } }", {}, False),
        ("{ a @include(if: false) { ... @defer { b } } }", {}, False),
        ("{ a { ... @defer @skip(if: true) { b } } }", {}, False),
        ("{ a { ... @defer @include(if: true) { b } } }", {}, True),
        ("{ a { b } }", {}, False),
        ("fragment F on A { ... @defer { b } } { a { b } }", {}, False),
    ],
)
def test_an_active_defer_or_stream_asks_for_incremental_delivery(
    document: str, variables: dict[str, Any], expected: bool
) -> None:
    assert uses_incremental_delivery(parse(document), None, variables) is expected


def test_only_the_operation_being_run_counts() -> None:
    document = parse("query Plain { a { b } } query Deferred { a { ... @defer { b } } }")

    assert uses_incremental_delivery(document, "Plain", {}) is False
    assert uses_incremental_delivery(document, "Deferred", {}) is True


def test_a_fragment_spread_in_a_cycle_is_read_once() -> None:
    document = parse("{ a { ...F } } fragment F on A { b { ...F } }")

    assert uses_incremental_delivery(document, None, {}) is False
