"""How long the garbage collector stops the process: every pass timed (``gc.callbacks``).

A collection runs inside whatever allocation triggered it and holds the event loop for its
whole duration: every request and subscription event waits. Each pass is recorded in
``python_gc_pause_seconds{generation}``; a pass longer than ``SLOW_PASS_SECONDS`` is also
logged (generation, milliseconds, objects collected), so a stall seen by clients can be told
apart from one of ours.
"""

from __future__ import annotations

import gc
import logging
import time
from typing import Any

from prometheus_client import Histogram

from core.metrics import REGISTRY

logger = logging.getLogger("agora.gc")

SLOW_PASS_SECONDS = 0.05

GC_PAUSES = Histogram(
    "python_gc_pause_seconds",
    "Garbage-collector passes of this process, by generation (2: a full pass), by duration.",
    ["generation"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
    registry=REGISTRY,
)


class GCPauseWatch:
    """Times each collection between its ``start`` and ``stop`` callbacks."""

    def __init__(self, slow_seconds: float = SLOW_PASS_SECONDS) -> None:
        self.slow_seconds = slow_seconds
        self._started = 0.0
        self._observe = [GC_PAUSES.labels(str(generation)).observe for generation in range(3)]

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        seconds = time.perf_counter() - self._started
        generation = info["generation"]
        self._observe[generation](seconds)
        if seconds >= self.slow_seconds:
            logger.warning(
                "a garbage-collector pass (generation %d) stopped the process for %.0f ms",
                generation,
                seconds * 1000,
                extra={"gc_generation": generation, "collected": info.get("collected")},
            )

    def install(self) -> None:
        if self not in gc.callbacks:
            gc.callbacks.append(self)

    def uninstall(self) -> None:
        if self in gc.callbacks:
            gc.callbacks.remove(self)
