"""SMTP down, through the app: nothing listens on the SMTP port, or a server accepts the
connection and never answers. The action that sends the email succeeds (emails are background
jobs); the job is retried with backoff, then given up: counted, and logged once per run."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest

from core.metrics import REGISTRY
from models.user import UserStatus
from services.jobs import InProcessJobQueue
from services.mail import EmailMessage, MailDeliveryError, SmtpMailer
from tests.blackhole import blackhole
from tests.conftest import AppFactory, graphql, make_settings
from tests.factories import create_user
from tests.smtp_server import HOST, free_port

ATTEMPTS = 3
REGISTER = """
mutation ($email: String!) {
  register(input: {name: "Ada", email: $email, password: "Sup3r-secret!"}) { id status }
}"""
ACTIONS = {
    "register": (REGISTER, {"email": "new@example.com"}),
    "requestPasswordReset": (
        "mutation ($email: String!) { requestPasswordReset(email: $email) }",
        {"email": "known@example.com"},
    ),
    "resendVerificationEmail": (
        "mutation ($email: String!) { resendVerificationEmail(email: $email) }",
        {"email": "pending@example.com"},
    ),
}


@pytest.fixture
def client(client_factory: AppFactory) -> httpx.AsyncClient:
    """The app with an SMTP server that is down: nothing listens on its port."""
    return client_factory(
        smtp_host=HOST,
        smtp_port=free_port(),
        smtp_starttls=False,
        job_max_attempts=ATTEMPTS,
        job_retry_delay_seconds=0.01,
    )


async def jobs_done(client: httpx.AsyncClient) -> InProcessJobQueue:
    queue = client.container.jobs  # type: ignore[attr-defined]
    assert isinstance(queue, InProcessJobQueue)
    async with asyncio.timeout(10):
        await queue.drain()
    return queue


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def register(client: httpx.AsyncClient, count: int) -> None:
    for number in range(count):
        response = await graphql(client, REGISTER, {"email": f"ada{number}@example.com"})
        assert response.json()["data"]["register"]["status"] == "PENDING_VERIFICATION"


@pytest.mark.parametrize("action", sorted(ACTIONS))
async def test_account_email_actions_succeed_while_smtp_is_down(
    client: httpx.AsyncClient, action: str
) -> None:
    await create_user(email="known@example.com")
    await create_user(email="pending@example.com", status=UserStatus.PENDING_VERIFICATION)
    query, variables = ACTIONS[action]

    response = await graphql(client, query, variables)

    assert response.status_code == 200
    assert "errors" not in response.json(), response.json()
    [failed] = (await jobs_done(client)).failed
    assert (failed.name, failed.attempts) == ("send_email", ATTEMPTS)
    assert "MailDeliveryError" in failed.error


async def test_emails_given_up_and_their_retries_are_counted(client: httpx.AsyncClient) -> None:
    failed_before = sample("jobs_failed_total", job_name="send_email")
    retries_before = sample("job_retries_total", job_name="send_email")

    await register(client, 4)
    await jobs_done(client)

    assert sample("jobs_failed_total", job_name="send_email") == failed_before + 4
    assert sample("job_retries_total", job_name="send_email") == retries_before + 4 * (ATTEMPTS - 1)


async def test_each_smtp_failure_counts_as_a_dependency_failure(
    client: httpx.AsyncClient,
) -> None:
    before = sample("dependency_failures_total", dependency="smtp", operation="send")

    await register(client, 2)
    await jobs_done(client)

    assert sample("dependency_failures_total", dependency="smtp", operation="send") == (
        before + 2 * ATTEMPTS
    )


async def test_failing_email_jobs_are_logged_once_per_run_not_per_attempt(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agora.jobs")

    await register(client, 4)
    await jobs_done(client)

    lines = [r for r in caplog.records if r.name == "agora.jobs" and r.levelno >= logging.WARNING]
    # 4 jobs x 3 attempts: the first retry and the first job given up, held back after that.
    assert [(r.levelno, r.attempt) for r in lines] == [  # type: ignore[attr-defined]
        (logging.WARNING, 1),
        (logging.ERROR, ATTEMPTS),
    ]
    assert "failed after 3 attempt(s): MailDeliveryError" in lines[1].getMessage()


async def test_a_silent_smtp_server_fails_the_attempt_at_the_smtp_timeout() -> None:
    with blackhole() as port:
        settings: Any = make_settings(
            smtp_host=HOST, smtp_port=port, smtp_starttls=False, smtp_timeout_seconds=0.2
        )
        # Only so that a hang fails this test instead of stopping the suite.
        async with asyncio.timeout(30):
            with pytest.raises(MailDeliveryError, match="Timed out"):
                await SmtpMailer(settings).send(EmailMessage(to="a@b.test", subject="s", text="t"))
