"""The garbage collector's passes are timed: a histogram per generation, a log line per slow one."""

from __future__ import annotations

import gc
import logging

import pytest

from core.gc_pauses import GCPauseWatch
from core.metrics import REGISTRY


def full_passes() -> float:
    return REGISTRY.get_sample_value("python_gc_pause_seconds_count", {"generation": "2"}) or 0.0


def test_every_full_pass_is_recorded():
    watch = GCPauseWatch()
    before = full_passes()
    watch.install()
    try:
        gc.collect()
    finally:
        watch.uninstall()
    assert full_passes() == before + 1
    gc.collect()  # uninstalled: no longer counted
    assert full_passes() == before + 1


def test_a_slow_pass_is_logged_with_its_generation(caplog: pytest.LogCaptureFixture):
    watch = GCPauseWatch(slow_seconds=0.0)  # every pass counts as slow
    watch.install()
    try:
        with caplog.at_level(logging.WARNING, logger="agora.gc"):
            gc.collect()
    finally:
        watch.uninstall()
    slow = [record for record in caplog.records if record.name == "agora.gc"]
    assert any(
        record.getMessage().startswith("a garbage-collector pass (generation 2)") for record in slow
    )
