"""The embedded push backend: nothing leaves the process, each message is one log line."""

from __future__ import annotations

import logging

from services.push.base import PushMessage, mask_token

logger = logging.getLogger("agora.push")


class LogPushProvider:
    """Development and test backend. Logs the title and the masked token of each message
    (never the token in full, nor the body: it may quote a private comment) and keeps the
    last ``keep`` messages in ``sent`` for tests."""

    def __init__(self, *, keep: int = 100) -> None:
        self.keep = keep
        self.sent: list[PushMessage] = []

    async def send(self, message: PushMessage) -> None:
        self.sent.append(message)
        del self.sent[: -self.keep]
        logger.info(
            "push to %s: %r",
            mask_token(message.token),
            message.title,
            extra={"pushToken": mask_token(message.token), "pushData": message.data},
        )

    async def close(self) -> None:
        return None
