"""What every push backend shares: the message, the provider interface and its errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class PushMessage:
    """One notification for one device. ``data`` values are strings: FCM's ``data`` map
    takes string values only."""

    token: str
    title: str
    body: str
    data: dict[str, str] = field(default_factory=dict)


class PushProvider(Protocol):
    """Delivers one message to one device token.

    ``send`` returns when the provider accepted the message; it raises
    ``InvalidPushTokenError`` when the provider says the token is dead (the caller removes
    the device) and ``PushDeliveryError`` for anything else (the job retries it)."""

    async def send(self, message: PushMessage) -> None: ...

    async def close(self) -> None: ...


class PushDeliveryError(Exception):
    """The message was not delivered; a retry may succeed (a 5xx, a 429, a network error,
    a rejected access token). ``status`` is the provider's HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class InvalidPushTokenError(Exception):
    """The provider reported the device token as unregistered or invalid: never retry it."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the provider rejected the device token: {reason}")
        self.reason = reason


def mask_token(token: str) -> str:
    """``dGhpcyBpcyBh…(152 chars)``: enough to tell devices apart in logs, too little to use."""
    return f"{token[:6]}…({len(token)} chars)"
