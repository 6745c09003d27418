"""Dependency faults are counted every time but logged once per run: the first line, then at
most one per interval carrying how many were held back (a Redis outage must not write
thousands of identical warnings). The clock is injected."""

from __future__ import annotations

import logging

import pytest

from core import faults
from core.faults import LibraryRepeats, RepeatThrottle, dependency_failed, flush_repeats
from core.metrics import REGISTRY
from tests.clock import FakeClock


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    clock = FakeClock()
    monkeypatch.setattr(faults, "REPEATS", RepeatThrottle(interval=60, clock=clock))
    return clock


class Lines:
    """The warnings logged on this test's logger (caplog starts a new list per test phase)."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog

    def __call__(self) -> list[logging.LogRecord]:
        return [r for r in self.caplog.records if r.name == LOGGER.name]


@pytest.fixture
def lines(caplog: pytest.LogCaptureFixture) -> Lines:
    caplog.set_level(logging.WARNING, logger="test.faults")
    return Lines(caplog)


LOGGER = logging.getLogger("test.faults")


def fail(reason: str = "Connection refused", operation: str = "publish") -> None:
    dependency_failed(LOGGER, "redis", operation, "redis %s failed (%s)", operation, reason)


def failures(operation: str = "publish") -> float:
    value = REGISTRY.get_sample_value(
        "dependency_failures_total", {"dependency": "redis", "operation": operation}
    )
    return value or 0.0


def test_the_first_fault_of_a_run_is_logged(clock: FakeClock, lines: Lines):
    fail()

    [line] = lines()
    assert line.levelno == logging.WARNING
    assert line.getMessage() == "redis publish failed (Connection refused)"
    assert (line.dependency, line.operation, line.repeated) == ("redis", "publish", 0)  # type: ignore[attr-defined]


def test_repeats_within_the_interval_are_counted_but_not_logged(clock: FakeClock, lines: Lines):
    before = failures()
    for second in range(59):
        clock.now = 1000.0 + second
        fail(f"error {second}")  # other arguments, same message: the same run

    assert len(lines()) == 1
    assert failures() == before + 59


def test_after_the_interval_one_line_reports_how_many_were_held_back(
    clock: FakeClock, lines: Lines
):
    for _ in range(5000):
        fail()
    clock.now += 60
    fail()
    fail()

    _, summary = lines()
    assert summary.repeated == 4999  # type: ignore[attr-defined]
    assert summary.getMessage() == (
        "redis publish failed (Connection refused) (4999 more like this since the last one logged)"
    )


def test_each_dependency_operation_and_message_is_its_own_run(clock: FakeClock, lines: Lines):
    fail(operation="publish")
    fail(operation="subscribe")
    dependency_failed(LOGGER, "cache", "get", "cache %s failed: %s", "get", "timeout")
    dependency_failed(LOGGER, "redis", "publish", "another message")
    fail(operation="publish")

    assert len(lines()) == 4


def test_an_interval_of_zero_logs_every_fault(lines: Lines, monkeypatch):
    monkeypatch.setattr(faults, "REPEATS", RepeatThrottle(interval=0, clock=FakeClock()))
    for _ in range(3):
        fail()

    assert len(lines()) == 3


def test_flushing_reports_what_was_held_back_and_starts_afresh(clock: FakeClock, lines: Lines):
    for _ in range(3):
        fail()
    flush_repeats()
    flush_repeats()  # nothing left to report
    fail()

    _, flushed, again = lines()
    assert flushed.repeated == 2  # type: ignore[attr-defined]
    assert flushed.getMessage() == "2 more like this were not logged: redis %s failed (%s)"
    assert again.repeated == 0  # type: ignore[attr-defined]


def library_record(message: str, level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord("saq", level, __file__, 1, message, ("job",), None)


def test_a_library_filter_for_one_message_throttles_it_up_to_its_level(clock: FakeClock):
    errors = LibraryRepeats("jobs", message="Error processing job %s", up_to=logging.ERROR)

    passed = [errors.filter(library_record("Error processing job %s")) for _ in range(3)]

    assert passed == [True, False, False]
    assert errors.filter(library_record("Processing %s", logging.INFO))  # another message
    assert errors.filter(library_record("Error processing job %s", logging.CRITICAL))
