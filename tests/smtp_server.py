"""A real SMTP server for tests: aiosmtpd's threaded Controller on 127.0.0.1.

    with running_smtp_server() as smtp:                      # accepts every message
        ...; await smtp.wait_for_messages(1)
    with running_smtp_server(reply=TEMPORARY_FAILURE) as smtp:  # 451 to every DATA
        ...; assert len(smtp.attempts) == 3

It records the (monotonic) time of every DATA command in ``attempts``, accepted or not, so
tests can measure retry backoff from the server's side. The server runs its own event loop
in a thread; the test's loop only polls the thread-safe lists.
"""

from __future__ import annotations

import asyncio
import email
import email.message
import email.policy
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"
ACCEPTED = "250 2.0.0 Message accepted for delivery"
TEMPORARY_FAILURE = "451 4.3.0 Temporary failure, try again later"
PERMANENT_FAILURE = "554 5.7.1 Message rejected"


def free_port(host: str = HOST) -> int:
    """A port nothing listens on right now. aiosmtpd's Controller cannot bind port 0 (it
    connects to its own port to start up), so we ask the OS for one first."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    received_at: float  # time.monotonic()

    @property
    def message(self) -> email.message.EmailMessage:
        parsed = email.message_from_bytes(self.content, policy=email.policy.default)
        assert isinstance(parsed, email.message.EmailMessage)
        return parsed

    def part(self, content_type: str) -> str:
        """The decoded body of the first part of this type (``text/plain``, ``text/html``)."""
        for part in self.message.walk():
            if part.get_content_type() == content_type and not part.is_multipart():
                assert isinstance(part, email.message.EmailMessage)
                return str(part.get_content())
        raise AssertionError(f"no {content_type} part in the message")


class RecordingHandler:
    """aiosmtpd handler: answers every DATA with ``reply`` and records what it saw."""

    def __init__(self, reply: str = ACCEPTED) -> None:
        self.reply = reply
        self.messages: list[ReceivedMail] = []
        self.attempts: list[float] = []
        self.logins: list[str] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.monotonic()
        with self._lock:
            self.attempts.append(now)
            if self.reply.startswith("2"):
                self.messages.append(
                    ReceivedMail(
                        mail_from=envelope.mail_from,
                        rcpt_tos=list(envelope.rcpt_tos),
                        content=bytes(envelope.original_content or envelope.content),
                        received_at=now,
                    )
                )
        return self.reply


class SmtpTestServer:
    def __init__(
        self,
        *,
        reply: str = ACCEPTED,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.handler = RecordingHandler(reply)
        self.credentials = credentials
        self.host = HOST
        self.port = 0
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[ReceivedMail]:
        return list(self.handler.messages)

    @property
    def attempts(self) -> list[float]:
        return list(self.handler.attempts)

    @property
    def logins(self) -> list[str]:
        return list(self.handler.logins)

    def start(self) -> None:
        extra: dict[str, Any] = {}
        if self.credentials is not None:
            extra = {
                "authenticator": self._authenticate,
                "auth_required": True,
                "auth_require_tls": False,  # plain-text AUTH is fine on loopback
            }
        for _ in range(5):  # the free port can be taken between probe and bind
            port = free_port(self.host)
            controller = Controller(
                self.handler,
                hostname=self.host,
                port=port,
                server_hostname="smtp.test",  # skips socket.getfqdn()
                ready_timeout=5.0,
                **extra,
            )
            try:
                controller.start()
            except OSError:
                controller.stop(no_assert=True)
                continue
            self._controller, self.port = controller, port
            return
        raise RuntimeError("could not find a free port for the SMTP test server")

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if (
            isinstance(auth_data, LoginPassword)
            and self.credentials is not None
            and (auth_data.login.decode(), auth_data.password.decode()) == self.credentials
        ):
            self.handler.logins.append(auth_data.login.decode())
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    async def wait_for_messages(self, count: int = 1, within: float = 5.0) -> list[ReceivedMail]:
        await _wait_until(lambda: len(self.handler.messages) >= count, within, "messages")
        return self.messages

    async def wait_for_attempts(self, count: int, within: float = 5.0) -> list[float]:
        await _wait_until(lambda: len(self.handler.attempts) >= count, within, "attempts")
        return self.attempts


async def _wait_until(predicate: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"the SMTP test server did not see enough {what} in {within}s")
        await asyncio.sleep(0.01)


@contextmanager
def running_smtp_server(
    *, reply: str = ACCEPTED, credentials: tuple[str, str] | None = None
) -> Iterator[SmtpTestServer]:
    """A started server, stopped on exit. ``reply`` answers every DATA command (use
    ``TEMPORARY_FAILURE`` or ``PERMANENT_FAILURE`` to test retries); ``credentials`` makes
    AUTH (PLAIN/LOGIN) mandatory."""
    server = SmtpTestServer(reply=reply, credentials=credentials)
    server.start()
    try:
        yield server
    finally:
        server.stop()
