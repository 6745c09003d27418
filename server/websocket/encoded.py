"""A subscription payload encoded once for every socket it goes to.

A shared group hands the same payload to thousands of members; each used to build its own
message dict and encode it whole. ``EncodedPayload`` carries its JSON text, encoded when
the group delivers it, and each socket only wraps it in its protocol's envelope
(``send_text``). It is still a dict: an HTTP stream encodes it as before (orjson
serialises a dict subclass like a dict)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.websockets import WebSocketDisconnect
from strawberry.http.exceptions import WebSocketDisconnected


class EncodedPayload(dict[str, Any]):
    """A ``next`` payload and its JSON text (keep it unchanged once built)."""

    __slots__ = ("text",)

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(payload)
        self.text = orjson.dumps(payload).decode()


def payload_text(payload: dict[str, Any]) -> str:
    """The JSON text of ``payload``: its own when it was encoded once for its group."""
    if isinstance(payload, EncodedPayload):
        return payload.text
    return orjson.dumps(payload).decode()


def id_text(operation_id: str) -> str:
    """An operation id as a JSON string, for the envelopes."""
    return orjson.dumps(operation_id).decode()


async def send_text(handler: Any, text: str) -> None:
    """A text frame to the handler's socket: what Strawberry's ``send_json`` does after
    encoding (a closed socket raises ``WebSocketDisconnected``, as it does there)."""
    try:
        await handler.websocket.ws.send_text(text)
    except WebSocketDisconnect as exc:
        raise WebSocketDisconnected from exc
