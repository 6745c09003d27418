"""The mail value types: one message, the sender interface, its error, and link helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode

_LINK = re.compile(r"https?://[^\s<>\"')\]]+")


@dataclass(frozen=True, slots=True)
class EmailMessage:
    """One email to one recipient: a plain-text body and, usually, an HTML alternative."""

    to: str
    subject: str
    text: str
    html: str | None = None


class Mailer(Protocol):
    """Delivers one message or raises ``MailDeliveryError``; jobs retry on that error."""

    async def send(self, message: EmailMessage) -> None: ...


class MailDeliveryError(Exception):
    """A message could not be handed over; ``code`` is the SMTP reply code when there was one
    (4xx: the server asked to try later, 5xx: it refused)."""

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code

    @property
    def permanent(self) -> bool:
        return self.code is not None and 500 <= self.code < 600


def build_link(app_url: str, path: str, **params: str | int) -> str:
    """``build_link("https://a.test/app", "/verify-email", token="a b")`` →
    ``https://a.test/app/verify-email?token=a+b``: the path is appended to APP_URL (its own
    path prefix is kept) and the parameters are URL-encoded."""
    url = f"{app_url.rstrip('/')}/{path.lstrip('/')}"
    return f"{url}?{urlencode(params)}" if params else url


def extract_links(text: str) -> list[str]:
    """The http(s) URLs in a text, in order, without duplicates; punctuation that ends a
    sentence right after a URL is not part of it."""
    return list(dict.fromkeys(link.rstrip(".,;:!?") for link in _LINK.findall(text)))


def mask_email(address: str) -> str:
    """``alice@example.com`` → ``a***@example.com``: enough to tell messages apart in logs
    without writing another user's address there."""
    local, at, domain = address.partition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"
