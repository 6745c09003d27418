"""LOG_FORMAT=console (development's default): one line a person reads, the fields included."""

from __future__ import annotations

import logging

from core.logging import ConsoleFormatter, JsonFormatter, RequestContextFilter


def record(**extra: object) -> logging.LogRecord:
    entry = logging.LogRecord("agora.access", logging.INFO, __file__, 1, "request", (), None)
    entry.__dict__.update(extra)
    RequestContextFilter().filter(entry)
    return entry


def test_a_console_line_shows_the_fields_of_the_record() -> None:
    line = ConsoleFormatter().format(record(method="POST", path="/graphql", status=200))

    assert line.endswith(" INFO    agora.access request method=POST path=/graphql status=200")


def test_a_console_line_leaves_out_unset_fields() -> None:
    line = ConsoleFormatter().format(record(operationName=None))

    assert "None" not in line
    assert line.endswith("agora.access request")


def test_a_console_line_ends_with_the_traceback_of_an_exception() -> None:
    try:
        raise ValueError("boom")
    except ValueError as exc:
        entry = record(status=500)
        entry.exc_info = (ValueError, exc, exc.__traceback__)

    first, *rest = ConsoleFormatter().format(entry).splitlines()

    assert first.endswith("request status=500")
    assert rest[-1] == "ValueError: boom"


def test_json_and_console_carry_the_same_fields() -> None:
    entry = record(method="GET", status=404)

    assert '"method":"GET","status":404' in JsonFormatter().format(entry)
    assert "method=GET status=404" in ConsoleFormatter().format(entry)
