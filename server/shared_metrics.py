"""``serve --workers N``: the directory where the workers keep their metric values."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.metrics import MULTIPROCESS_DIR_VARIABLE


@contextmanager
def shared_metrics_dir(workers: int) -> Iterator[str | None]:
    """Set ``PROMETHEUS_MULTIPROC_DIR`` for the worker processes (they inherit the
    environment; prometheus_client picks its value class when it is first imported, so it
    must be set before they start). A directory the operator set is emptied of earlier runs'
    files (stale counters would be added to the new ones); else a temporary one is made for
    N > 1 and removed at exit. One worker without the variable keeps the plain registry."""
    configured = os.environ.get(MULTIPROCESS_DIR_VARIABLE)
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
        yield configured
        return
    if workers <= 1:
        yield None
        return
    created = tempfile.mkdtemp(prefix="agora-metrics-")
    os.environ[MULTIPROCESS_DIR_VARIABLE] = created
    try:
        yield created
    finally:
        os.environ.pop(MULTIPROCESS_DIR_VARIABLE, None)
        shutil.rmtree(created, ignore_errors=True)
