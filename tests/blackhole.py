"""A server that hangs: a port where connections are accepted (the socket listens, so the
kernel completes every handshake) and nothing is ever read or answered.

    with blackhole() as port:
        ...  # a client connecting to 127.0.0.1:<port> waits until its own timeout
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

HOST = "127.0.0.1"


@contextmanager
def blackhole() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        sock.listen(64)
        yield int(sock.getsockname()[1])
