"""A clock the test moves by hand, for code that reads ``time.monotonic`` (pass the object in
place of the ``time`` module) or takes a clock callable (pass the object itself)."""

from __future__ import annotations


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def monotonic(self) -> float:
        return self.now

    def __call__(self) -> float:
        return self.now
