"""Stop accepting connections the moment a stopping signal arrives.

uvicorn closes its listening sockets only when its own shutdown starts, and the app holds that
back until the websockets are drained (``server.websocket.drain_before_exit``): up to seconds
in which new connections were accepted, then reset without an answer when uvicorn closed
them. Closing the listeners first makes new connections fail at once (refused, so a client
or a load balancer tries another replica) while those already open are still served.
"""

from __future__ import annotations

import uvicorn


def stop_accepting(signal_handler: object) -> bool:
    """Close the listening sockets of the uvicorn server that installed ``signal_handler``
    (uvicorn 0.54 installs its bound ``Server.handle_exit`` with ``signal.signal``, and
    keeps its asyncio servers in ``Server.servers``; closing one twice is harmless, so its
    own shutdown later does no harm). False when the handler is not a uvicorn server's."""
    server = getattr(signal_handler, "__self__", None)
    if not isinstance(server, uvicorn.Server):
        return False
    for listener in getattr(server, "servers", ()):
        listener.close()
    return True
