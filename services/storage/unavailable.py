"""A storage backend that fails during a request (S3 down, unreachable or not answering
within its deadline) answers SERVICE_UNAVAILABLE: HTTP 503 with ``Retry-After`` when the
operation is left without data, never INTERNAL_SERVER_ERROR. Each failure is counted in
``dependency_failures_total{dependency=<backend>}`` and logged once per run (core/faults.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from core.faults import dependency_failed
from services.errors import ServiceUnavailable
from services.storage.base import DirectUploadUnsupported, Storage, StorageError

logger = logging.getLogger("agora.storage")

STORAGE_UNAVAILABLE = "File storage is unavailable; retry shortly"


@contextmanager
def storage_unavailable(storage: Storage, operation: str) -> Iterator[None]:
    """Re-raise a failure of ``storage`` inside the block as ServiceUnavailable."""
    try:
        yield
    except DirectUploadUnsupported:
        raise  # what the backend cannot do, not a failure
    except StorageError as exc:
        storage_failed(storage, operation, "file storage unavailable: %s", exc)
        raise ServiceUnavailable(STORAGE_UNAVAILABLE) from exc


def storage_failed(storage: Storage, operation: str, message: str, *args: object) -> None:
    """Count a failure of ``storage`` and log it (the first of a run, then once per interval)."""
    dependency_failed(logger, storage.name, operation, message, *args)
