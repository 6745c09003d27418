"""The scheduled jobs: the daily cleanup and the weekly report to admins.

Both are registered jobs (``daily_cleanup``, ``weekly_report``) run on the cron schedules of
the settings (``CRON_CLEANUP``, ``CRON_WEEKLY_REPORT``): by the saq worker with Redis, by the
in-process scheduler without it. Each one can also be run directly (tests, a manual rerun),
is idempotent, and logs what it did.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tortoise.functions import Sum
from tortoise.models import Model
from tortoise.queryset import QuerySet

from models.audit import AuditLog
from models.auth import OneTimeToken, RefreshToken
from models.notifications import Notification, NotificationKind
from models.orders import Order, OrderStatus
from models.user import Role, User, UserStatus
from models.wallet import IdempotencyRecord
from services import stats
from services.files import cleanup_orphans
from services.mail import render_email
from services.money import to_decimal

if TYPE_CHECKING:
    from services.jobs.base import JobContext

logger = logging.getLogger("agora.scheduled")

AUDIT_LOG_RETENTION = timedelta(days=30)
READ_NOTIFICATION_RETENTION = timedelta(days=90)
IDEMPOTENCY_RETENTION = timedelta(days=1)
DELETE_BATCH = 1000  # rows per DELETE: short statements, no long lock on a big backlog

REPORT_PERIOD = timedelta(days=7)
REPORT_TOP_CUSTOMERS = 5


# --- daily cleanup ------------------------------------------------------------------


@dataclass(frozen=True)
class CleanupReport:
    expired_refresh_tokens: int
    expired_one_time_tokens: int
    old_audit_entries: int
    old_read_notifications: int
    old_idempotency_records: int


async def run_cleanup(now: datetime | None = None) -> CleanupReport:
    """Delete what has outlived its use, as of ``now``:
    - refresh tokens past their expiry (rotated or revoked ones are kept until then: reuse
      detection needs them);
    - email verification and password reset tokens past their expiry, used or not;
    - audit-log entries older than 30 days;
    - notifications read and created more than 90 days ago (unread ones stay);
    - idempotency records older than a day (a replay after that is a new request).
    """
    now = now or datetime.now(UTC)
    return CleanupReport(
        expired_refresh_tokens=await _delete(RefreshToken.filter(expires_at__lt=now)),
        expired_one_time_tokens=await _delete(OneTimeToken.filter(expires_at__lt=now)),
        old_audit_entries=await _delete(AuditLog.filter(created_at__lt=now - AUDIT_LOG_RETENTION)),
        old_read_notifications=await _delete(
            Notification.filter(
                read_at__isnull=False, created_at__lt=now - READ_NOTIFICATION_RETENTION
            )
        ),
        old_idempotency_records=await _delete(
            IdempotencyRecord.filter(created_at__lt=now - IDEMPOTENCY_RETENTION)
        ),
    )


async def _delete(query: QuerySet[Any]) -> int:
    """Delete the rows of ``query`` in batches of ``DELETE_BATCH``; how many were."""
    model: type[Model] = query.model
    deleted = 0
    while True:
        ids = await query.order_by("id").limit(DELETE_BATCH).values_list("id", flat=True)
        if not ids:
            return deleted
        deleted += await model.filter(id__in=list(ids)).delete()


async def daily_cleanup(ctx: JobContext) -> dict[str, int]:
    """The ``daily_cleanup`` job: ``run_cleanup``, then the uploads' own cleanup (PENDING
    direct uploads and objects without a row, over a day old) when the job context has the
    storage."""
    report = asdict(await run_cleanup())
    if ctx.storage is not None:
        files = await cleanup_orphans(ctx.storage)
        report["stale_pending_uploads"] = files.pending_removed
        report["orphaned_objects"] = files.orphans_removed
        report["file_cleanup_failures"] = files.failures
    else:
        logger.warning("daily cleanup: no storage in the job context, uploads not cleaned")
    logger.info(
        "daily cleanup: %s",
        ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in report.items()),
        extra={"cleanup": report},
    )
    return report


# --- weekly report ------------------------------------------------------------------


@dataclass(frozen=True)
class TopCustomer:
    name: str
    orders: int
    amount: str  # "1234.50"


@dataclass(frozen=True)
class WeeklyReport:
    period_start: datetime
    period_end: datetime
    new_users: int
    orders_placed: int
    orders_completed: int
    orders_cancelled: int
    revenue: str  # of the COMPLETED orders placed in the period, "1234.50"
    top_customers: list[TopCustomer] = field(default_factory=list)

    @property
    def title(self) -> str:
        """One report per period end date: the marker that makes the job idempotent."""
        return f"Weekly report for the week to {self.period_end:%Y-%m-%d}"

    def template_context(self) -> dict[str, Any]:
        return {
            "period_start": f"{self.period_start:%Y-%m-%d %H:%M} UTC",
            "period_end": f"{self.period_end:%Y-%m-%d %H:%M} UTC",
            "new_users": self.new_users,
            "orders_placed": self.orders_placed,
            "orders_completed": self.orders_completed,
            "orders_cancelled": self.orders_cancelled,
            "revenue": self.revenue,
            "top_customers": self.top_customers,
        }


async def build_weekly_report(now: datetime | None = None) -> WeeklyReport:
    """The seven days up to ``now``. Orders count by the time they were placed, like
    ``topCustomers`` (services.stats), whose ranking the report reuses."""
    end = now or datetime.now(UTC)
    start = end - REPORT_PERIOD
    in_period = {"created_at__gte": start, "created_at__lt": end}
    orders = Order.filter(**in_period)
    completed = orders.filter(status=OrderStatus.COMPLETED)
    totals = await completed.annotate(revenue=Sum("total_cents")).first().values("revenue")
    ranking = await stats.top_customers(REPORT_TOP_CUSTOMERS, start)
    names = dict(
        await User.filter(id__in=[row.user_id for row in ranking]).values_list("id", "name")
    )
    return WeeklyReport(
        period_start=start,
        period_end=end,
        new_users=await User.filter(**in_period).count(),
        orders_placed=await orders.count(),
        orders_completed=await completed.count(),
        orders_cancelled=await orders.filter(status=OrderStatus.CANCELLED).count(),
        revenue=f"{to_decimal(int((totals or {}).get('revenue') or 0))}",
        top_customers=[
            TopCustomer(
                name=names.get(row.user_id, f"User {row.user_id}"),
                orders=row.total_orders,
                amount=f"{to_decimal(row.total_cents)}",
            )
            for row in ranking
        ],
    )


async def weekly_report(ctx: JobContext) -> dict[str, Any]:
    """The ``weekly_report`` job: the report emailed (through the mail queue) to every active
    admin, each of whom also gets a SYSTEM notification with the same title. That
    notification is the marker of idempotency: a rerun for the same period end date skips
    the admins who have it (the email is queued first, so a crash in between means one
    email too many, never one too few)."""
    report = await build_weekly_report()
    admins = await User.filter(
        role=Role.ADMIN, status=UserStatus.ACTIVE, deleted_at__isnull=True
    ).order_by("id")
    already = set(
        await Notification.filter(
            user_id__in=[admin.id for admin in admins],
            kind=NotificationKind.SYSTEM,
            title=report.title,
        ).values_list("user_id", flat=True)
    )
    sent = 0
    for admin in admins:
        if admin.id in already:
            continue
        message = render_email(
            "weekly_report", admin.email, name=admin.name, **report.template_context()
        )
        await ctx.jobs.enqueue(
            "send_email",
            to=message.to,
            subject=message.subject,
            text=message.text,
            html=message.html,
        )
        await Notification.create(
            user_id=admin.id,
            kind=NotificationKind.SYSTEM,
            title=report.title,
            body=(
                f"{report.new_users} new users, {report.orders_placed} orders, "
                f"{report.revenue} revenue. The full report is in your email."
            ),
            data={"report": "weekly", "periodEnd": report.period_end.isoformat()},
        )
        sent += 1
    summary = {
        "periodEnd": report.period_end.isoformat(),
        "newUsers": report.new_users,
        "ordersPlaced": report.orders_placed,
        "ordersCompleted": report.orders_completed,
        "revenue": report.revenue,
        "emailsQueued": sent,
        "adminsSkipped": len(already),
    }
    logger.info(
        "weekly report for the week to %s: queued %d email(s), %d admin(s) already had it",
        f"{report.period_end:%Y-%m-%d}",
        sent,
        len(already),
        extra={"report": summary},
    )
    return summary
