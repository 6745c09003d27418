"""Choose the mailer from the settings."""

from __future__ import annotations

from core.settings import Settings
from services.mail.message import Mailer
from services.mail.outbox import OutboxMailer
from services.mail.smtp import SmtpMailer


def build_mailer(settings: Settings) -> Mailer:
    """SMTP when ``SMTP_HOST`` is set, else the outbox directory (``MAIL_OUTBOX_DIR``)."""
    if settings.smtp_host:
        return SmtpMailer(settings)
    return OutboxMailer(settings.mail_outbox_dir)
