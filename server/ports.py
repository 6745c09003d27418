"""Whether `serve` can listen on an address, asked before anything else runs (``make run``
migrates and seeds first; uvicorn would report a taken port only then, inside its logs)."""

from __future__ import annotations

import errno
import socket


def listen_problem(host: str, port: int) -> str | None:
    """Why uvicorn could not bind ``host:port``, or None when it can.

    Binds the way uvicorn does (the family from the host's spelling, SO_REUSEADDR), then
    lets go: a server started right after gets the same answer."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return (
                f"cannot serve on {host}:{port}: the port is already in use (another server?); "
                "choose another: make run PORT=…, or serve --port …"
            )
        return f"cannot serve on {host}:{port}: {exc.strerror or exc}"
    return None
