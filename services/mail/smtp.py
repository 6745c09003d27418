"""The production mailer: SMTP through aiosmtplib, one connection per message."""

from __future__ import annotations

import email.message
import email.utils
import logging

import aiosmtplib

from core.faults import count_fault
from core.settings import Settings
from services.mail.message import EmailMessage, MailDeliveryError, mask_email

logger = logging.getLogger("agora.mail")

IMPLICIT_TLS_PORT = 465


class SmtpMailer:
    """Sends through ``SMTP_HOST:SMTP_PORT`` as ``SMTP_FROM``; logs in when ``SMTP_USER`` and
    ``SMTP_PASSWORD`` are set. Every failure (connection, timeout, TLS, a 4xx/5xx reply)
    becomes ``MailDeliveryError``, which the job queue retries; each is counted in
    ``dependency_failures_total{dependency="smtp"}``."""

    def __init__(self, settings: Settings) -> None:
        if not settings.smtp_host:
            raise ValueError("SmtpMailer needs SMTP_HOST")
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.username = settings.smtp_user
        self.password = settings.smtp_password
        self.sender = settings.smtp_from
        self.timeout = settings.smtp_timeout_seconds
        # aiosmtplib: use_tls (TLS from the first byte, port 465) and start_tls are mutually
        # exclusive. start_tls=True demands the upgrade, False never tries it, and None (its
        # default) upgrades only when the server offers it: SMTP_STARTTLS maps to True/False
        # so a configured STARTTLS cannot silently fall back to plain text.
        self.use_tls = self.port == IMPLICIT_TLS_PORT
        self.start_tls = False if self.use_tls else settings.smtp_starttls

    def build(self, message: EmailMessage) -> email.message.EmailMessage:
        mime = email.message.EmailMessage()
        mime["From"] = self.sender
        mime["To"] = message.to
        mime["Subject"] = message.subject
        mime["Date"] = email.utils.formatdate(usegmt=True)
        domain = email.utils.parseaddr(self.sender)[1].rpartition("@")[2] or None
        mime["Message-ID"] = email.utils.make_msgid(domain=domain)
        mime.set_content(message.text)
        if message.html is not None:
            mime.add_alternative(message.html, subtype="html")
        return mime

    async def send(self, message: EmailMessage) -> None:
        try:
            mime = self.build(message)
        except ValueError as exc:  # a header with a line break, an unparsable address
            raise MailDeliveryError(f"invalid message: {exc}") from exc
        try:
            await self._deliver(mime)
        except MailDeliveryError:
            count_fault("smtp", "send")  # the job logs it (throttled) and retries
            raise
        logger.info(
            "mail sent to %s: %r",
            mask_email(message.to),
            message.subject,
            extra={"to": mask_email(message.to), "subject": message.subject},
        )

    async def _deliver(self, mime: email.message.EmailMessage) -> None:
        login = self.username is not None and self.password is not None
        try:
            refused, _ = await aiosmtplib.send(
                mime,
                hostname=self.host,
                port=self.port,
                username=self.username if login else None,
                password=self.password if login else None,
                use_tls=self.use_tls,
                start_tls=self.start_tls,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPResponseException as exc:
            raise MailDeliveryError(
                f"SMTP server {self.host}:{self.port} replied {exc.code} {exc.message}",
                code=exc.code,
            ) from exc
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refusal.code for refusal in exc.recipients]
            raise MailDeliveryError(
                f"SMTP server {self.host}:{self.port} refused the recipient ({codes})",
                code=codes[0] if codes else None,
            ) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Connection refused, DNS, timeouts (TimeoutError is an OSError) and TLS errors.
            raise MailDeliveryError(
                f"SMTP delivery to {self.host}:{self.port} failed: {type(exc).__name__}: {exc}"
            ) from exc
        if refused:  # only partial refusals get here; a single refused recipient raises
            raise MailDeliveryError(f"SMTP server {self.host}:{self.port} refused a recipient")
