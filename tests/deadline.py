"""A hang detector for requests that once ran for minutes: a generous deadline, never a speed
assertion.

``asyncio.timeout`` cannot stop a request that hangs in synchronous code (the event loop never
gets the control back to cancel it), so the deadline is a SIGALRM: its handler raises ``Hung``
into whatever Python code is running, resolvers included. ``Hung`` is a BaseException so that no
``except Exception`` on the way turns it into an ordinary error response.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

HANG_SECONDS = 30.0


class Hung(BaseException):
    pass


@contextmanager
def deadline(seconds: float = HANG_SECONDS) -> Iterator[None]:
    """Raise ``Hung`` in the block if it is still running after ``seconds`` (main thread)."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise Hung(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
