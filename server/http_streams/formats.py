"""The two wire formats of a subscription over HTTP, and which one a request asks for.

- **graphql-sse**, "distinct connections" mode (``Accept: text/event-stream``): each result
  is an event ``next`` whose ``data`` is the JSON result, the end is an event ``complete``
  (with an empty ``data:`` line, which the browser's ``EventSource`` needs to fire it), and a
  comment line is the heartbeat.
- **Apollo's multipart subscriptions** (``Accept: multipart/mixed;subscriptionSpec=1.0``):
  ``multipart/mixed; boundary="graphql"``, one ``application/json`` part per message:
  ``{"payload": result}`` for a result, ``{}`` for a heartbeat, and
  ``{"payload": null, "errors": [...]}`` for an error that ends the subscription; the
  closing delimiter ``--graphql--`` ends it.

Every chunk written ends with a complete message: Apollo Client hands a part over only once
it has read the delimiter after it, so each part is followed by its delimiter at once.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import orjson

SSE_MEDIA_TYPE = "text/event-stream"
MULTIPART_MEDIA_TYPE = "multipart/mixed"
BOUNDARY = "graphql"

# Proxies and browsers must neither cache, transform (compress) nor buffer a stream.
_STREAM_HEADERS = {"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"}


class Transport(enum.Enum):
    SSE = "sse"
    MULTIPART = "multipart"


def _media_ranges(accept: str) -> list[tuple[str, dict[str, str]]]:
    """``Accept`` as (media type, lower-cased parameters) pairs, without those of q=0."""
    ranges = []
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        parameters = {}
        for param in params:
            name, _, value = param.partition("=")
            parameters[name.strip().lower()] = value.strip().strip("\"'")
        try:
            quality = float(parameters.get("q", "1"))
        except ValueError:
            quality = 0.0
        if media and quality > 0:
            ranges.append((media.lower(), parameters))
    return ranges


def requested_transport(accept: str | None) -> Transport | None:
    """The streaming transport ``Accept`` names, if any: ``text/event-stream`` (graphql-sse),
    or ``multipart/mixed`` with a ``subscriptionSpec`` 1.0 parameter (Apollo). A plain
    ``multipart/mixed`` (incremental delivery, GraphiQL) is not a subscription transport."""
    if not accept:
        return None
    for media, parameters in _media_ranges(accept):
        if media == SSE_MEDIA_TYPE:
            return Transport.SSE
        if media == MULTIPART_MEDIA_TYPE and parameters.get("subscriptionspec", "").startswith(
            "1.0"
        ):
            return Transport.MULTIPART
    return None


_JSON_MEDIA_TYPES = frozenset(
    {"application/graphql-response+json", "application/json", "application/graphql+json"}
)


def prefers_event_stream(accept: str | None) -> bool:
    """Whether ``Accept`` lists ``text/event-stream`` before every JSON type it lists (a
    query or mutation is then answered as one ``next`` event): graphql-sse's client sends it
    alone; urql sends it after the JSON types with every request and expects JSON back."""
    for media, _parameters in _media_ranges(accept or ""):
        if media == SSE_MEDIA_TYPE:
            return True
        if media in _JSON_MEDIA_TYPES:
            return False
    return False


def _json(value: Any) -> bytes:
    return orjson.dumps(value)  # one line: orjson never writes a newline


@dataclass(frozen=True, slots=True)
class StreamFormat:
    """How one transport writes a stream."""

    transport: Transport
    media_type: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Content-Type": self.media_type, **_STREAM_HEADERS}

    def opening(self) -> bytes:
        """Written with the headers: it flushes them through proxies and some browsers."""
        if self.transport is Transport.SSE:
            return b":\n\n"
        return f"\r\n--{BOUNDARY}".encode()

    def heartbeat(self) -> bytes:
        if self.transport is Transport.SSE:
            return b":\n\n"
        return self._part(b"{}")

    def next(self, result: dict[str, Any]) -> bytes:
        if self.transport is Transport.SSE:
            return b"event: next\ndata: " + _json(result) + b"\n\n"
        return self._part(_json({"payload": result}))

    def errors(self, errors: list[dict[str, Any]]) -> bytes:
        """Errors that end the subscription after it started."""
        if self.transport is Transport.SSE:
            return self.next({"errors": errors})
        return self._part(_json({"payload": None, "errors": errors}))

    def closing(self) -> bytes:
        if self.transport is Transport.SSE:
            return b"event: complete\ndata:\n\n"
        return b"--\r\n"  # after the last delimiter: "--graphql--"

    @staticmethod
    def _part(body: bytes) -> bytes:
        return b"\r\nContent-Type: application/json\r\n\r\n" + body + f"\r\n--{BOUNDARY}".encode()


SSE = StreamFormat(Transport.SSE, f"{SSE_MEDIA_TYPE}; charset=utf-8")
MULTIPART = StreamFormat(
    Transport.MULTIPART, f'{MULTIPART_MEDIA_TYPE}; boundary="{BOUNDARY}"; subscriptionSpec="1.0"'
)
FORMATS = {Transport.SSE: SSE, Transport.MULTIPART: MULTIPART}
