"""Drain the websockets on SIGTERM/SIGINT before uvicorn stops the server."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable, Coroutine
from types import FrameType
from typing import Any

from server.listeners import stop_accepting

logger = logging.getLogger("agora.websocket")

DRAIN_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def drain_before_exit(drain: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    """Run ``drain`` when SIGTERM or SIGINT arrives, then hand the signal to the handler
    that was there before (uvicorn's, which stops the server). Uvicorn alone would close
    every websocket at once with 1012 and drop what is queued for them. New connections are
    refused from the signal on: the listening sockets close before the drain starts. A
    second signal while draining is handed over at once. Returns the function that
    uninstalls it."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    previous: dict[int, Any] = {sig: signal.getsignal(sig) for sig in DRAIN_SIGNALS}
    started = False

    def hand_over(sig: int, frame: FrameType | None) -> None:
        handler = previous[sig]
        if callable(handler):
            handler(sig, frame)
        else:  # the default action (no uvicorn around): restore it and let it happen
            signal.signal(sig, handler)
            signal.raise_signal(sig)

    def on_signal(sig: int, frame: FrameType | None) -> None:
        nonlocal started
        if started:
            hand_over(sig, frame)
            return
        started = True

        def finished(task: asyncio.Task[None]) -> None:
            if not task.cancelled() and (error := task.exception()) is not None:
                logger.error("draining the websockets failed", exc_info=error)
            hand_over(sig, frame)

        def start() -> None:
            stop_accepting(previous[sig])
            loop.create_task(drain()).add_done_callback(finished)

        loop.call_soon_threadsafe(start)

    for sig in DRAIN_SIGNALS:
        signal.signal(sig, on_signal)

    def uninstall() -> None:
        for sig in DRAIN_SIGNALS:
            if signal.getsignal(sig) is on_signal:
                signal.signal(sig, previous[sig])

    return uninstall
