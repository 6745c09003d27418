"""The embedded mailer: messages go to a directory as JSON files and a summary to the log."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.mail.message import EmailMessage, MailDeliveryError, extract_links, mask_email

logger = logging.getLogger("agora.mail")


class OutboxMailer:
    """Development and test mailer. Every message becomes ``<outbox>/<time>-<id>.json``
    (to, subject, text, html, sent_at), one log line names the subject and the links of the
    text body (the verification link is right there in the console; never the body itself),
    and ``sent`` keeps the last ``keep`` messages for tests."""

    def __init__(self, directory: str | Path, *, keep: int = 100) -> None:
        self.directory = Path(directory)
        self.keep = keep
        self.sent: list[EmailMessage] = []

    async def send(self, message: EmailMessage) -> None:
        sent_at = datetime.now(UTC)
        payload: dict[str, Any] = {
            "to": message.to,
            "subject": message.subject,
            "text": message.text,
            "html": message.html,
            "sent_at": sent_at.isoformat(),
        }
        name = f"{sent_at:%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}.json"
        try:
            path = await asyncio.to_thread(self._write, name, payload)
        except OSError as exc:
            raise MailDeliveryError(f"cannot write to the outbox {self.directory}: {exc}") from exc
        self.sent.append(message)
        del self.sent[: -self.keep]
        links = extract_links(message.text)
        logger.info(
            "mail to %s: %r%s (outbox %s)",
            mask_email(message.to),
            message.subject,
            f" links: {' '.join(links)}" if links else "",
            path,
            extra={
                "to": mask_email(message.to),
                "subject": message.subject,
                "links": links,
                "outboxFile": str(path),
            },
        )

    def _write(self, name: str, payload: dict[str, Any]) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / name
        temporary = path.with_suffix(".tmp")
        # The messages carry single-use tokens: readable by the owner only, and renamed into
        # place so a reader never sees half a file.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(payload, file, ensure_ascii=False, indent=2)
        temporary.replace(path)
        return path
