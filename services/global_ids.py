"""Relay global IDs (base64 of "Type:pk"): the API's names for objects, also used in the
extensions of errors raised by services."""

from __future__ import annotations

import base64


def global_id(type_name: str, pk: int | str) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()
