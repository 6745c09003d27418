"""Per-request values every log line and error needs, carried in context variables."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
user_id_var: ContextVar[str | None] = ContextVar("user_id", default=None)
operation_name_var: ContextVar[str | None] = ContextVar("operation_name", default=None)

_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def is_sane_request_id(value: str) -> bool:
    """An incoming X-Request-ID is echoed only if it cannot corrupt logs or headers."""
    return bool(_SANE_REQUEST_ID.fullmatch(value))


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return request_id_var.get()
