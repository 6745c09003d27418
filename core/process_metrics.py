"""The process's own figures: garbage-collector pauses, and (with ``serve --workers N``)
CPU, memory and file descriptors copied per worker into gauges the other workers can read."""

from __future__ import annotations

import gc
import os
import time
from collections import deque
from typing import Any

from prometheus_client import Gauge, multiprocess

from core.metrics import GC_PAUSES, PROCESS, multiprocess_dir

_gc_started: list[float] = []
# (generation, seconds) of the passes not yet observed; bounded, the oldest dropped.
_gc_pauses: deque[tuple[int, float]] = deque(maxlen=10_000)


def _on_gc(phase: str, info: dict[str, Any]) -> None:
    # No metric is touched here: prometheus_client's locks are not re-entrant, and a
    # collection can start in a thread that holds one (a scrape copies a metric's children
    # under its lock), which would then wait for itself. The pause is queued instead.
    if phase == "start":
        _gc_started.append(time.perf_counter())
    elif _gc_started:
        _gc_pauses.append((info["generation"], time.perf_counter() - _gc_started.pop()))


def observe_gc_pauses() -> None:
    """Time every collector pass (``gc.callbacks`` run before and after it); the pauses reach
    ``python_gc_pause_seconds`` at the next ``drain_gc_pauses``. Idempotent."""
    if _on_gc not in gc.callbacks:
        gc.callbacks.append(_on_gc)


def drain_gc_pauses() -> None:
    """Observe the queued pauses (the runtime sampler's tick, a scrape)."""
    while _gc_pauses:
        generation, seconds = _gc_pauses.popleft()
        GC_PAUSES.labels(str(generation)).observe(seconds)


class ProcessMirror:
    """``ProcessCollector`` reads /proc for the process that answers the scrape, so across
    workers it would show one worker's figures as the server's. Each worker instead copies
    its own into gauges labelled by ``pid`` (``liveall``: a stopped worker's are dropped by
    ``forget_this_process``). The names are ``ProcessCollector``'s, so one query fits both
    modes: ``sum(rate(process_cpu_seconds_total[5m]))``."""

    def __init__(self) -> None:
        self._gauges: dict[str, Gauge] = {}

    def sample(self) -> None:
        for family in PROCESS.collect():
            for sample in family.samples:
                gauge = self._gauges.get(sample.name)
                if gauge is None:
                    # registry=None: the merged exposition reads the value files, not a registry.
                    gauge = Gauge(
                        sample.name,
                        family.documentation,
                        multiprocess_mode="liveall",
                        registry=None,
                    )
                    self._gauges[sample.name] = gauge
                gauge.set(sample.value)


def process_mirror() -> ProcessMirror | None:
    """A mirror when the workers share their metrics, else None (``ProcessCollector`` is
    on the registry and reads the one process at scrape time)."""
    return ProcessMirror() if multiprocess_dir() is not None else None


def forget_this_process() -> None:
    """At a worker's shutdown: its ``live*`` gauges (connections, pool, process figures)
    leave the merged exposition; its counters stay, as counters must."""
    if multiprocess_dir() is not None:
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
