"""Queue templated emails as background jobs (call only after the transaction commits)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from core.faults import dependency_failed
from services.jobs import enqueue_email
from services.mail import build_link, render_email

if TYPE_CHECKING:
    from core.settings import Settings
    from services.jobs import JobQueue

logger = logging.getLogger(__name__)

# Where the account emails' links lead under APP_URL: the frontend's pages in production,
# this server's development pages otherwise (server/email_pages.py).
VERIFY_EMAIL_PATH = "/verify-email"
RESET_PASSWORD_PATH = "/reset-password"  # noqa: S105 - a path, not a password


async def queue_email(jobs: JobQueue, template: str, to: str, **context: Any) -> None:
    """Render and enqueue; a queue failure is logged, never raised: the action that
    caused the email has already happened."""
    message = render_email(template, to, **context)
    try:
        await enqueue_email(jobs, message)
    except Exception:  # noqa: BLE001 - logged with its stack; the action already happened
        dependency_failed(
            logger, "job_queue", "enqueue", "could not queue the %s email", template, exc_info=True
        )


def app_link(settings: Settings, path: str, **params: str) -> str:
    return build_link(settings.app_url, path, **params)
