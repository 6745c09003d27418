"""Subscriptions (and single operations) streamed over HTTP on /graphql.

Two transports, chosen by ``Accept``: graphql-sse's "distinct connections" mode
(``text/event-stream``) and Apollo's multipart subscriptions (``multipart/mixed`` with
``subscriptionSpec=1.0``). Both run each operation exactly as the websocket transports do
(``server.websocket``: ``serve_operation``, ``SharedSubscriptions``, ``WebSocketRegistry``
and its shutdown drain), so authentication, limits, cost, shared execution and shutdown are
the same. Modules: ``formats`` (the wire formats, which transport ``Accept`` asks for),
``endpoint`` (the checks before a stream opens), ``stream`` (the response itself).
"""

from server.http_streams.endpoint import open_stream
from server.http_streams.formats import Transport, requested_transport
from server.http_streams.stream import HTTPStream

__all__ = ["HTTPStream", "Transport", "open_stream", "requested_transport"]
