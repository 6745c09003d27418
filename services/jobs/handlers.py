"""The jobs there are. Register a new one with ``@JOBS.job("name", sensitive=(...))``."""

from __future__ import annotations

from services.jobs.base import JobContext, JobQueue, JobRegistry
from services.mail.message import EmailMessage
from services.notifications import send_push
from services.scheduled import daily_cleanup, weekly_report

JOBS = JobRegistry()
# Jobs defined next to their domain (they take a JobContext like the ones below).
JOBS.register("send_push", send_push)
JOBS.register("daily_cleanup", daily_cleanup)
JOBS.register("weekly_report", weekly_report)


@JOBS.job("send_email", sensitive=("text", "html"))
async def send_email(
    ctx: JobContext, *, to: str, subject: str, text: str, html: str | None = None
) -> None:
    """Deliver one message; a ``MailDeliveryError`` makes the queue retry it."""
    await ctx.mailer.send(EmailMessage(to=to, subject=subject, text=text, html=html))


async def enqueue_email(queue: JobQueue, message: EmailMessage) -> str:
    """Queue ``send_email`` for a rendered message (``render_email(...)``)."""
    return await queue.enqueue(
        "send_email", to=message.to, subject=message.subject, text=message.text, html=message.html
    )
