"""The scheduled jobs: the daily cleanup and the weekly report do their work when run
directly, twice without harm; their cron schedules come from the settings, reach the saq
worker, and are run by the in-process scheduler, whose timing is checked on a fixed clock."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from saq.job import Status
from saq.queue.redis import RedisQueue

from models.audit import AuditAction, AuditLog
from models.auth import OneTimeToken, OneTimeTokenPurpose, RefreshToken
from models.files import File, FilePurpose, FileStatus
from models.notifications import Notification, NotificationKind
from models.orders import OrderStatus
from models.user import Role, User, UserStatus
from models.wallet import IdempotencyRecord
from server.container import Container
from services import scheduled
from services.jobs import JOBS, InProcessJobQueue, JobContext, SaqJobQueue
from services.jobs.base import FollowUpQueue
from services.jobs.scheduler import CronScheduler, next_run
from services.jobs.worker import CronSchedule, build_worker_settings, cron_schedules
from services.mail import OutboxMailer
from services.storage import build_storage
from tests import factories
from tests.conftest import REDIS_URL, make_settings, requires_redis
from tests.smtp_server import HOST, running_smtp_server

NOW = datetime.now(UTC)


def ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


def later(**delta: float) -> datetime:
    return datetime.now(UTC) + timedelta(**delta)


def digest() -> str:
    return hashlib.sha256(uuid.uuid4().bytes).hexdigest()


# --- daily cleanup ------------------------------------------------------------------


async def seed_cleanup_rows(user: User) -> None:
    """Two of everything the cleanup looks at: one it removes, one it keeps."""
    for expires_at in (ago(hours=1), later(days=3)):
        await RefreshToken.create(
            user=user, token_hash=digest(), family_id=uuid.uuid4(), expires_at=expires_at
        )
        await OneTimeToken.create(
            user=user,
            purpose=OneTimeTokenPurpose.VERIFY_EMAIL,
            token_hash=digest(),
            expires_at=expires_at,
        )
    await AuditLog.create(action=AuditAction.LOGIN, actor_id=user.id, created_at=ago(days=31))
    await AuditLog.create(action=AuditAction.LOGOUT, actor_id=user.id, created_at=ago(days=29))
    for title, read_at, created_at in (
        ("old read", ago(days=95), ago(days=91)),  # removed
        ("old unread", None, ago(days=91)),  # kept: never read
        ("recent read", ago(days=1), ago(days=89)),  # kept: not old enough
    ):
        await Notification.create(
            user=user,
            kind=NotificationKind.SYSTEM,
            title=title,
            body="…",
            read_at=read_at,
            created_at=created_at,
        )
    for key, created_at in (("old", ago(days=2)), ("recent", ago(hours=1))):
        await IdempotencyRecord.create(
            user=user,
            operation="transfer",
            key=key,
            request_hash=digest(),
            result_id=1,
            created_at=created_at,
        )


async def test_the_cleanup_removes_what_expired_and_keeps_the_rest(db: None) -> None:
    user = await factories.create_user()
    await seed_cleanup_rows(user)

    first = await scheduled.run_cleanup()
    second = await scheduled.run_cleanup()  # idempotent: nothing left to do

    assert first == scheduled.CleanupReport(
        expired_refresh_tokens=1,
        expired_one_time_tokens=1,
        old_audit_entries=1,
        old_read_notifications=1,
        old_idempotency_records=1,
    )
    assert second == scheduled.CleanupReport(0, 0, 0, 0, 0)
    assert await RefreshToken.all().count() == 1
    assert await RefreshToken.filter(expires_at__gt=datetime.now(UTC)).count() == 1
    assert await OneTimeToken.filter(expires_at__gt=datetime.now(UTC)).count() == 1
    assert await OneTimeToken.all().count() == 1
    assert [entry.action for entry in await AuditLog.all()] == [AuditAction.LOGOUT]
    assert sorted(n.title for n in await Notification.all()) == ["old unread", "recent read"]
    assert [record.key for record in await IdempotencyRecord.all()] == ["recent"]
    assert await User.filter(id=user.id).exists()


async def test_the_cleanup_deletes_a_backlog_in_batches(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scheduled, "DELETE_BATCH", 2)
    for _ in range(5):
        await AuditLog.create(action=AuditAction.LOGIN, created_at=ago(days=40))
    await AuditLog.create(action=AuditAction.LOGIN, created_at=ago(days=1))

    report = await scheduled.run_cleanup()

    assert report.old_audit_entries == 5
    assert await AuditLog.all().count() == 1


async def test_the_daily_cleanup_job_logs_what_it_did_and_cleans_uploads(
    db: None, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="agora.scheduled")
    user = await factories.create_user()
    await seed_cleanup_rows(user)
    storage = build_storage(make_settings(storage_local_dir=str(tmp_path / "files")))
    await storage.start()
    stale = await File.create(
        owner=user,
        storage_key=uuid.uuid4().hex,
        filename="never-uploaded.png",
        content_type="image/png",
        size=10,
        purpose=FilePurpose.ATTACHMENT,
        status=FileStatus.PENDING,
        created_at=ago(days=2),
    )
    context = JobContext(mailer=OutboxMailer(tmp_path), storage=storage)
    try:
        report = await scheduled.daily_cleanup(context)
        again = await scheduled.daily_cleanup(context)
    finally:
        await storage.close()

    assert report["expired_refresh_tokens"] == 1
    assert report["old_read_notifications"] == 1
    assert report["stale_pending_uploads"] == 1
    assert not await File.filter(id=stale.id).exists()
    assert set(again.values()) == {0}
    [line, *_] = [r for r in caplog.records if r.getMessage().startswith("daily cleanup")]
    assert "1 expired refresh tokens" in line.getMessage()
    assert "1 old read notifications" in line.getMessage()


# --- weekly report ------------------------------------------------------------------


@contextlib.asynccontextmanager
async def job_queue(context: JobContext) -> AsyncIterator[InProcessJobQueue]:
    queue = InProcessJobQueue(context, JOBS, retry_delay=0.01)
    context.jobs.bind(queue)
    await queue.start()
    try:
        yield queue
    finally:
        await queue.close(grace=1)


async def run_job(queue: InProcessJobQueue, name: str) -> None:
    await queue.enqueue(name)
    async with asyncio.timeout(10):
        await queue.drain()
    assert queue.failed == []


async def seed_week() -> tuple[list[User], dict[str, Any]]:
    """Admins (two active, one suspended) and a week of business; returns the admins to
    be mailed and the numbers the report must show."""
    old = ago(days=60)
    admins = [
        await factories.create_user(name="Root", role=Role.ADMIN, created_at=old),
        await factories.create_user(name="Ops", role=Role.ADMIN, created_at=old),
    ]
    await factories.create_user(
        role=Role.ADMIN, status=UserStatus.SUSPENDED, created_at=old
    )  # no mail
    seller = await factories.create_user(name="Seller", created_at=old)
    ada = await factories.create_user(name="Ada", created_at=ago(days=2))
    bob = await factories.create_user(name="Bob", created_at=ago(days=3))
    await factories.create_user(name="Old", created_at=ago(days=10))
    product = await factories.create_product(seller, price_cents=1_250)
    recent = ago(days=1)
    await factories.create_order(
        ada, [(product, 4)], status=OrderStatus.COMPLETED, created_at=recent
    )
    await factories.create_order(
        ada, [(product, 2)], status=OrderStatus.COMPLETED, created_at=recent
    )
    await factories.create_order(
        bob, [(product, 1)], status=OrderStatus.COMPLETED, created_at=recent
    )
    await factories.create_order(
        bob, [(product, 8)], status=OrderStatus.CANCELLED, created_at=recent
    )
    await factories.create_order(bob, [(product, 3)], status=OrderStatus.PAID, created_at=recent)
    # Last month's completed order counts nowhere.
    await factories.create_order(
        ada, [(product, 9)], status=OrderStatus.COMPLETED, created_at=ago(days=20)
    )
    return admins, {"new_users": 2, "orders": 5, "completed": 3, "cancelled": 1}


async def test_the_weekly_report_is_mailed_to_every_active_admin_once(
    db: None, tmp_path: Path
) -> None:
    admins, expected = await seed_week()
    mailer = OutboxMailer(tmp_path / "outbox")
    context = JobContext(mailer=mailer, jobs=FollowUpQueue())

    async with job_queue(context) as queue:
        await run_job(queue, "weekly_report")
        await run_job(queue, "weekly_report")  # the same day again: nobody mailed twice

    assert sorted(message.to for message in mailer.sent) == sorted(a.email for a in admins)
    message = next(m for m in mailer.sent if m.to == admins[0].email)
    assert message.subject.startswith("Agora weekly report: ")
    text = message.text
    assert "Hi Root," in text
    assert f"New users:         {expected['new_users']}\n" in text
    assert f"Orders placed:     {expected['orders']}\n" in text
    assert f"Orders completed:  {expected['completed']}\n" in text
    assert f"Orders cancelled:  {expected['cancelled']}\n" in text
    assert "Revenue:           87.50 " in text  # (4 + 2 + 1) * 12.50
    assert "1. Ada: 2 orders, 75.00\n" in text
    assert "2. Bob: 1 order, 12.50\n" in text
    assert message.html is not None
    assert "<li>Ada: 2 orders, 75.00</li>" in message.html
    markers = await Notification.filter(kind=NotificationKind.SYSTEM).order_by("user_id")
    assert [n.user_id for n in markers] == sorted(a.id for a in admins)
    assert markers[0].title.startswith("Weekly report for the week to ")
    # The files the outbox wrote: one per admin.
    assert len(list((tmp_path / "outbox").glob("*.json"))) == 2


async def test_the_weekly_report_reaches_an_smtp_server(db: None) -> None:
    from services.mail import SmtpMailer

    [admin, *_], _ = await seed_week()
    with running_smtp_server() as smtp:
        settings = make_settings(
            smtp_host=HOST, smtp_port=smtp.port, smtp_starttls=False, smtp_timeout_seconds=5
        )
        context = JobContext(mailer=SmtpMailer(settings), jobs=FollowUpQueue())
        async with job_queue(context) as queue:
            await run_job(queue, "weekly_report")
        received = await smtp.wait_for_messages(2)

    mine = next(mail for mail in received if mail.rcpt_tos == [admin.email])
    assert "Orders completed:  3" in mine.part("text/plain")
    assert "Revenue:           87.50" in mine.part("text/plain")


async def test_the_weekly_report_of_an_empty_week(db: None) -> None:
    report = await scheduled.build_weekly_report()

    assert (report.new_users, report.orders_placed, report.revenue) == (0, 0, "0.00")
    assert report.top_customers == []
    assert report.period_end - report.period_start == timedelta(days=7)


# --- schedules ---------------------------------------------------------------------


def test_the_schedules_come_from_the_settings() -> None:
    settings = make_settings(cron_cleanup="30 1 * * *", cron_weekly_report="0 8 * * 1")

    schedules = {s.job: s.cron for s in cron_schedules(settings)}

    assert schedules == {"daily_cleanup": "30 1 * * *", "weekly_report": "0 8 * * 1"}
    assert {"daily_cleanup", "weekly_report", "send_push", "send_email"} <= {d.name for d in JOBS}


async def test_the_saq_worker_gets_the_cron_jobs(tmp_path: Path) -> None:
    settings = make_settings(redis_url="redis://127.0.0.1:1/0")
    client = Redis.from_url("redis://127.0.0.1:1/0")  # never connected
    try:
        worker = build_worker_settings(
            settings,
            JobContext(mailer=OutboxMailer(tmp_path)),
            queue=RedisQueue(client, name="never-connected"),
        )
    finally:
        await client.aclose()

    crons = {cron.function.__qualname__: cron.cron for cron in worker["cron_jobs"]}
    assert crons == {"daily_cleanup": "0 0 * * *", "weekly_report": "0 9 * * 1"}
    names = {item[0] for item in worker["functions"] if isinstance(item, tuple)}
    assert {"send_push", "daily_cleanup", "weekly_report", "send_email"} <= names


async def test_the_container_runs_the_schedules_when_jobs_run_in_process(tmp_path: Path) -> None:
    settings = make_settings(
        job_backend="inprocess",
        mail_outbox_dir=str(tmp_path / "outbox"),
        storage_local_dir=str(tmp_path / "files"),
    )
    container = Container.from_settings(settings, key_prefix=f"test:{uuid.uuid4().hex}:")
    assert container.scheduler is not None
    await container.start()
    try:
        runs = container.scheduler.next_runs()
        assert set(runs) == {"daily_cleanup", "weekly_report"}
        assert (runs["daily_cleanup"].hour, runs["daily_cleanup"].minute) == (0, 0)
        assert runs["weekly_report"].weekday() == 0
        assert runs["weekly_report"].hour == 9
    finally:
        await container.close()


@requires_redis
async def test_with_saq_the_worker_runs_the_schedules_not_the_api(tmp_path: Path) -> None:
    settings = make_settings(
        job_backend="saq",
        mail_outbox_dir=str(tmp_path / "outbox"),
        storage_local_dir=str(tmp_path / "files"),
    )
    container = Container.from_settings(settings, key_prefix=f"test:{uuid.uuid4().hex}:")
    try:
        assert isinstance(container.jobs, SaqJobQueue)
        assert container.scheduler is None
    finally:
        await container.close()


@requires_redis
async def test_the_saq_worker_runs_the_cleanup_job(db: None, tmp_path: Path) -> None:
    assert REDIS_URL is not None
    name = f"test-{uuid.uuid4().hex[:12]}"
    await AuditLog.create(action=AuditAction.LOGIN, created_at=ago(days=40))
    settings = make_settings(redis_url=REDIS_URL)
    worker_settings = build_worker_settings(
        settings, JobContext(mailer=OutboxMailer(tmp_path)), queue_name=name, cron_jobs=[]
    )
    from saq import Worker

    saq_queue = worker_settings["queue"]
    worker: Worker[Any] = Worker(**worker_settings)
    producer = SaqJobQueue(REDIS_URL, registry=JOBS, queue_name=name, timeout_seconds=10)
    await saq_queue.connect()
    await producer.start()
    task = asyncio.create_task(worker.start())
    try:
        job_id = await producer.enqueue("daily_cleanup")
        async with asyncio.timeout(10):
            while True:
                job = await producer.job(job_id)
                if job is not None and job.status == Status.COMPLETE:
                    break
                await asyncio.sleep(0.05)
        assert job.result["old_audit_entries"] == 1
        assert await AuditLog.all().count() == 0
    finally:
        await worker.stop()
        await asyncio.wait_for(task, 5)
        await producer.close()
        await saq_queue.disconnect()


# --- the in-process scheduler on a fixed clock ----------------------------------------


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("cron", "after", "expected"),
    [
        ("0 0 * * *", utc(2026, 11, 25, 13, 37), utc(2026, 11, 26, 0, 0)),
        ("0 0 * * *", utc(2026, 11, 26, 0, 0), utc(2026, 11, 27, 0, 0)),  # strictly after
        ("0 9 * * 1", utc(2026, 11, 29, 23, 59), utc(2026, 11, 30, 9, 0)),  # Sun → Mon
        ("0 9 * * 1", utc(2026, 11, 30, 9, 0), utc(2026, 12, 7, 9, 0)),
        ("0 9 * * 1", utc(2026, 12, 31, 12, 0), utc(2027, 1, 4, 9, 0)),  # across the year
        # An aware time in another zone: Mon 10:30 in UTC+2 is 08:30 UTC, before 09:00.
        (
            "0 9 * * 1",
            datetime(2026, 11, 30, 10, 30, tzinfo=timezone(timedelta(hours=2))),
            utc(2026, 11, 30, 9, 0),
        ),
    ],
)
def test_next_run(cron: str, after: datetime, expected: datetime) -> None:
    assert next_run(cron, after) == expected
    assert next_run(cron, after).tzinfo is not None


def test_next_run_refuses_naive_times_and_bad_crons() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_run("0 0 * * *", datetime(2026, 11, 25))  # naive: the point of the test
    with pytest.raises(ValueError, match="five-field cron"):
        CronScheduler([CronSchedule("daily_cleanup", "every day")], RecordingQueue(FakeClock(NOW)))


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)
        await asyncio.sleep(0)


class RecordingQueue:
    """A JobQueue that writes down what was queued, when (by the fake clock)."""

    def __init__(self, clock: FakeClock, *, fail_first: int = 0) -> None:
        self.clock = clock
        self.queued: list[tuple[str, datetime]] = []
        self.fail_first = fail_first
        self.changed = asyncio.Event()

    async def enqueue(self, name: str, **kwargs: Any) -> str:
        self.changed.set()
        if self.fail_first:
            self.fail_first -= 1
            raise ConnectionError("queue down")
        self.queued.append((name, self.clock.now))
        return uuid.uuid4().hex

    async def start(self) -> None: ...

    async def close(self) -> None: ...


async def run_until(scheduler: CronScheduler, queue: RecordingQueue, count: int) -> None:
    await scheduler.start()
    try:
        async with asyncio.timeout(5):
            while len(queue.queued) < count:
                queue.changed.clear()
                await queue.changed.wait()
    finally:
        await scheduler.close()


async def test_the_scheduler_queues_each_job_at_its_cron_times() -> None:
    clock = FakeClock(utc(2026, 11, 29, 23, 59, 30))  # Sunday, 30 s before midnight
    queue = RecordingQueue(clock)
    scheduler = CronScheduler(
        [CronSchedule("daily_cleanup", "0 0 * * *")],
        queue,
        clock=clock,
        sleep=clock.sleep,
        max_sleep=10 * 86400,
    )

    assert scheduler.next_runs() == {"daily_cleanup": utc(2026, 11, 30, 0, 0)}
    await run_until(scheduler, queue, 3)

    assert queue.queued == [
        ("daily_cleanup", utc(2026, 11, 30, 0, 0)),
        ("daily_cleanup", utc(2026, 12, 1, 0, 0)),
        ("daily_cleanup", utc(2026, 12, 2, 0, 0)),
    ]
    assert clock.slept[:2] == [30.0, 86400.0]


async def test_the_scheduler_runs_both_schedules_from_the_settings() -> None:
    clock = FakeClock(utc(2026, 11, 29, 12, 0))  # Sunday noon
    queue = RecordingQueue(clock)
    scheduler = CronScheduler(
        cron_schedules(make_settings()), queue, clock=clock, sleep=clock.sleep, max_sleep=60
    )

    await run_until(scheduler, queue, 3)

    # Both tasks share the fake clock; each fires at its own due time.
    assert [name for name, _ in queue.queued] == ["daily_cleanup", "weekly_report", "daily_cleanup"]
    assert [at for _, at in scheduler.runs][:3] == [
        utc(2026, 11, 30, 0, 0),
        utc(2026, 11, 30, 9, 0),
        utc(2026, 12, 1, 0, 0),
    ]
    assert max(clock.slept) <= 60  # long waits are cut into slices


async def test_the_scheduler_skips_missed_runs_and_survives_a_failed_enqueue() -> None:
    clock = FakeClock(utc(2026, 11, 29, 23, 0))
    queue = RecordingQueue(clock, fail_first=1)

    async def oversleep(seconds: float) -> None:  # the machine was suspended for 3 days
        await clock.sleep(seconds + (3 * 86400 if not clock.slept else 0))

    scheduler = CronScheduler(
        [CronSchedule("daily_cleanup", "0 0 * * *")],
        queue,
        clock=clock,
        sleep=oversleep,
        max_sleep=10 * 86400,
    )

    await run_until(scheduler, queue, 2)

    # Due Mon 00:00, woke up Thu 00:00: that run failed to queue, the missed Tue and Wed
    # runs are not made up, and the schedule goes on.
    assert [at for _, at in scheduler.runs][:3] == [
        utc(2026, 11, 30, 0, 0),
        utc(2026, 12, 4, 0, 0),
        utc(2026, 12, 5, 0, 0),
    ]
    assert [name for name, _ in queue.queued] == ["daily_cleanup", "daily_cleanup"]
