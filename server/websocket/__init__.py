"""Websocket transport of /graphql: Strawberry's protocol handlers with our rules.

Strawberry runs one handler per socket and hands every operation of that socket the one
context ``get_context`` built at the handshake. The handlers here change that and add:

- a context per operation (fresh loaders; the connection's token checked again, so an
  expired or revoked token starts nothing new: UNAUTHENTICATED);
- errors formatted like HTTP ones (``extensions.code``, ``requestId``, masking), and every
  refusal before execution (cost, rate limit, document limits, permissions at subscribe)
  sent as the protocol's ``error`` message instead of a ``next`` carrying errors;
- a connection-init deadline for the legacy graphql-ws protocol too (Strawberry enforces
  it for graphql-transport-ws only);
- shared execution (``SharedSubscriptions``): every subscribe runs the whole pipeline for
  its own checks (validation, cost, permissions) in "check only" mode, then joins the group
  of identical subscriptions (same document, variables and viewer) whose one leader stream
  executes each event ONCE and hands the payload to every member;
- registration in ``WebSocketRegistry``: connections per user, and a clean shutdown that
  flushes queued events before closing with 1001.

Modules: ``connection`` (what the handlers need from the view, close codes, the handshake),
``registry`` (live connections), ``shared`` (shared subscriptions), ``operation`` (the run of
one operation, check then follow, for both protocols), ``transport_ws`` and ``legacy_ws``
(the protocol handlers), ``shutdown`` (drain on SIGTERM/SIGINT).
"""

from server.websocket.connection import RealtimeView
from server.websocket.legacy_ws import LegacyWSHandler
from server.websocket.registry import WebSocketRegistry
from server.websocket.shared import SharedSubscriptions
from server.websocket.shutdown import drain_before_exit
from server.websocket.transport_ws import TransportWSHandler

__all__ = [
    "LegacyWSHandler",
    "RealtimeView",
    "SharedSubscriptions",
    "TransportWSHandler",
    "WebSocketRegistry",
    "drain_before_exit",
]
