"""Structured logs on stdout, each carrying the request id: one JSON object per line, or
(LOG_FORMAT=console, development's default) one readable line."""

from __future__ import annotations

import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

import orjson

from core import tracing
from core.faults import DEFAULT_REPEAT_INTERVAL_SECONDS, LibraryRepeats, configure_repeats
from core.request_context import request_id_var, user_id_var

_RESERVED = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


class RequestContextFilter(logging.Filter):
    """Stamps every record with the current request id and user id, and with tracing on
    the current trace and span ids (``traceId``, ``spanId``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "requestId"):
            record.requestId = request_id_var.get()
        if not hasattr(record, "userId"):
            record.userId = user_id_var.get()
        if tracing.enabled and not hasattr(record, "traceId"):
            ids = tracing.current_ids()
            if ids is not None:
                record.traceId, record.spanId = ids
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(fields_of(record))
        if record.exc_info:
            entry["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            entry["stack"] = "".join(traceback.format_exception(*record.exc_info))
        return orjson.dumps(entry, default=str).decode()


class ConsoleFormatter(logging.Formatter):
    """One line for a person: time, level, logger, message, then the fields as key=value."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{key}={value}" for key, value in fields_of(record).items())
        line = super().formatMessage(record)
        return f"{line} {fields}" if fields else line


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """What the caller added to a record (``extra``, the request context), unset ones left out."""
    return {
        key: value
        for key, value in record.__dict__.items()
        if key not in _RESERVED and value is not None
    }


HANDLER_NAME = "agora.stdout"


def configure_logging(
    level: str = "INFO",
    fmt: str = "json",
    repeat_interval: float = DEFAULT_REPEAT_INTERVAL_SECONDS,
) -> None:
    """Install our stdout handler on the root logger, replacing the one a previous call
    installed; handlers installed by others (pytest's caplog, an error tracker) stay.
    ``repeat_interval``: how often one dependency fault is logged again while it repeats."""
    configure_repeats(repeat_interval)
    handler = logging.StreamHandler(sys.stdout)
    handler.set_name(HANDLER_NAME)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else ConsoleFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == HANDLER_NAME:
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn's own access log duplicates ours; its error log goes through the root handler.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    # During a database outage asyncpg's pool warns (with a stack) on every reconnect attempt.
    pool_logger = logging.getLogger("asyncpg.pool")
    if not any(isinstance(f, LibraryRepeats) for f in pool_logger.filters):
        pool_logger.addFilter(LibraryRepeats("database"))
