"""Dependency faults the server survives: counted, and logged without flooding the log.

An outage makes every request hit the same fault (a Redis outage once wrote ~5,000 identical
warnings in 11 s). ``dependency_failed`` counts each one in ``dependency_failures_total`` and
logs the first of a run; the same warning (same dependency, operation and message template)
is then logged at most once per interval, carrying how many were held back since the last
line (``repeated``). ``flush_repeats`` logs what is still held back (at shutdown).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from core.metrics import DEPENDENCY_FAILURES

DEFAULT_REPEAT_INTERVAL_SECONDS = 60.0

K = TypeVar("K", bound=Hashable)


@dataclass(slots=True)
class _Run:
    logged_at: float
    held_back: int = 0


class RepeatThrottle(Generic[K]):
    """Decides which of a run of identical log lines are written: the first, then at most one
    per ``interval`` seconds. An interval of 0 writes every one."""

    def __init__(
        self,
        interval: float = DEFAULT_REPEAT_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._runs: dict[K, _Run] = {}

    def admit(self, key: K) -> int | None:
        """None: hold this line back. A number: write it, mentioning that many held back."""
        now = self._clock()
        run = self._runs.get(key)
        if run is None or now - run.logged_at >= self.interval:
            held_back = run.held_back if run is not None else 0
            self._runs[key] = _Run(now)
            return held_back
        run.held_back += 1
        return None

    def drain(self) -> dict[K, int]:
        """Forget every run; the number held back per key that still had some."""
        held = {key: run.held_back for key, run in self._runs.items() if run.held_back}
        self._runs.clear()
        return held


# (logger name, dependency, operation, message template)
REPEATS: RepeatThrottle[tuple[str, str, str, str]] = RepeatThrottle()


def configure_repeats(interval: float) -> None:
    """Set the interval of the process-wide throttle (from ``LOG_REPEAT_INTERVAL_SECONDS``)."""
    REPEATS.interval = interval


def dependency_failed(
    logger: logging.Logger,
    dependency: str,
    operation: str,
    message: str,
    *args: object,
    exc_info: bool | BaseException = False,
    extra: Mapping[str, object] | None = None,
) -> None:
    """Count a fault of ``dependency`` that the server survived, and log it (throttled)."""
    count_fault(dependency, operation)
    warn_repeated(logger, dependency, operation, message, *args, exc_info=exc_info, extra=extra)


def count_fault(dependency: str, operation: str) -> None:
    """Count a fault of ``dependency`` that is logged elsewhere (a failed job's attempt)."""
    DEPENDENCY_FAILURES.labels(dependency, operation).inc()


def warn_repeated(
    logger: logging.Logger,
    dependency: str,
    operation: str,
    message: str,
    *args: object,
    exc_info: bool | BaseException = False,
    extra: Mapping[str, object] | None = None,
    level: int = logging.WARNING,
) -> None:
    """A warning (or ``level``) about ``dependency``, throttled: the first of a run, then one
    per interval. ``message`` is a %-template: runs are told apart by it, not by its
    arguments."""
    held_back = REPEATS.admit((logger.name, dependency, operation, message))
    if held_back is None:
        return
    if held_back:
        message += " (%d more like this since the last one logged)"
        args = (*args, held_back)
    logger.log(
        level,
        message,
        *args,
        exc_info=exc_info,
        extra={
            **(extra or {}),
            "dependency": dependency,
            "operation": operation,
            "repeated": held_back,
        },
    )


class LibraryRepeats(logging.Filter):
    """The same throttle for a library's own warnings (asyncpg's pool logs one with its
    stack every time it fails to reconnect): a record passes as the first of its run, then
    once per interval, its message telling how many were held back. Records above
    ``up_to``, and with ``message`` given any other message template, always pass."""

    def __init__(
        self, dependency: str, *, message: str | None = None, up_to: int = logging.WARNING
    ) -> None:
        super().__init__()
        self.dependency = dependency
        self.message = message
        self.up_to = up_to

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > self.up_to or self.message not in (None, record.msg):
            return True
        held_back = REPEATS.admit((record.name, self.dependency, "library", str(record.msg)))
        if held_back is None:
            return False
        if held_back:
            record.msg = f"{record.msg} ({held_back} more like this since the last one logged)"
        return True


def flush_repeats() -> None:
    """Log how many lines of each run were held back and not reported yet (at shutdown)."""
    for key, held_back in REPEATS.drain().items():
        logger_name, dependency, operation, message = key
        logging.getLogger(logger_name).warning(
            "%d more like this were not logged: %s",
            held_back,
            message,
            extra={"dependency": dependency, "operation": operation, "repeated": held_back},
        )


def fault_text(exc: BaseException, timeout: float | None = None) -> str:
    """What a fault says, for its log line. ``asyncio.TimeoutError`` (``TimeoutError``)
    has no message at all: it is written as what it is, with the ``timeout`` that fired."""
    if type(exc) is TimeoutError:
        return f"timed out after {timeout:g} s" if timeout else "timed out"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
