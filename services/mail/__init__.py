"""Mail: messages, templates, and two mailers (outbox directory by default, SMTP in
production). Services never send directly: they queue the ``send_email`` job."""

from services.mail.factory import build_mailer
from services.mail.message import (
    EmailMessage,
    MailDeliveryError,
    Mailer,
    build_link,
    extract_links,
    mask_email,
)
from services.mail.outbox import OutboxMailer
from services.mail.rendering import TEMPLATES, format_duration, render_email
from services.mail.smtp import SmtpMailer

__all__ = [
    "TEMPLATES",
    "EmailMessage",
    "MailDeliveryError",
    "Mailer",
    "OutboxMailer",
    "SmtpMailer",
    "build_link",
    "build_mailer",
    "extract_links",
    "format_duration",
    "mask_email",
    "render_email",
]
