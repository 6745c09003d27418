"""Attempt limits: 5 failed logins per email+IP, then RATE_LIMITED (HTTP 429, Retry-After,
extensions.retryAfter) until the window refills; account emails (password reset,
verification) are limited per email+IP too, and answer true until then."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from models.audit import AuditAction, AuditLog
from models.user import Role, User, UserStatus
from server.app import create_app
from server.container import Container
from services.jobs.inprocess import InProcessJobQueue
from services.mail import EmailMessage, OutboxMailer
from tests.conftest import graphql, make_settings

PASSWORD = "Sup3r-secret!"
WRONG = "Wr0ng-password!"
HOME_IP = "198.51.100.10"
OTHER_IP = "198.51.100.20"
LOGIN = """
mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken }
}
"""
RESET = "mutation($email: String!) { requestPasswordReset(email: $email) }"
RESEND = "mutation($email: String!) { resendVerificationEmail(email: $email) }"


class Site:
    """One app (one container, so one set of buckets) reached from any client IP."""

    def __init__(self, tmp_path: Path, **overrides: Any) -> None:
        overrides.setdefault("mail_outbox_dir", str(tmp_path / "outbox"))
        self.settings = make_settings(**overrides)
        self.container = Container.from_settings(
            self.settings, key_prefix=f"test:{uuid.uuid4().hex}:"
        )
        self.app = create_app(self.settings, manage_database=False, container=self.container)
        self.clients: dict[str, httpx.AsyncClient] = {}

    def from_ip(self, ip: str = HOME_IP) -> httpx.AsyncClient:
        if ip not in self.clients:
            self.clients[ip] = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=self.app, client=(ip, 1)),
                base_url="http://testserver",
            )
        return self.clients[ip]

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()
        await self.container.close()


SiteFactory = Callable[..., Site]


@pytest.fixture
async def site_factory(db: None, tmp_path: Path) -> AsyncIterator[SiteFactory]:
    sites: list[Site] = []

    def build(**overrides: Any) -> Site:
        sites.append(Site(tmp_path, **overrides))
        return sites[-1]

    yield build
    for site in sites:
        await site.close()


@pytest.fixture
def site(site_factory: SiteFactory) -> Site:
    return site_factory()


async def create_user(
    site: Site, email: str = "ada@example.com", status: UserStatus = UserStatus.ACTIVE
) -> User:
    return await User.create(
        name="Ada Lovelace",
        email=email,
        password_hash=site.container.passwords.hash(PASSWORD),
        status=status,
        role=Role.USER,
    )


async def attempt(
    site: Site, password: str, email: str = "ada@example.com", ip: str = HOME_IP
) -> httpx.Response:
    return await graphql(site.from_ip(ip), LOGIN, {"email": email, "password": password})


async def sent_mail(site: Site) -> list[EmailMessage]:
    """The messages the outbox mailer delivered, once every queued job has run."""
    jobs, mailer = site.container.jobs, site.container.mailer
    assert isinstance(jobs, InProcessJobQueue)
    assert isinstance(mailer, OutboxMailer)
    await jobs.drain()
    return mailer.sent


def code(response: httpx.Response) -> str | None:
    errors = response.json().get("errors")
    return errors[0]["extensions"]["code"] if errors else None


def succeeded(response: httpx.Response) -> bool:
    body = response.json()
    return "errors" not in body and bool(body["data"]["login"]["accessToken"])


def assert_rate_limited(response: httpx.Response, max_retry_after: int) -> None:
    assert response.status_code == 429
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    retry_after = error["extensions"]["retryAfter"]
    assert isinstance(retry_after, int)
    assert 1 <= retry_after <= max_retry_after
    assert response.headers["retry-after"] == str(retry_after)


async def fail_five_times(site: Site, email: str = "ada@example.com", ip: str = HOME_IP) -> None:
    for _ in range(5):
        response = await attempt(site, WRONG, email, ip)
        assert code(response) == "UNAUTHENTICATED"
        assert response.status_code == 200


# Failed logins


async def test_the_sixth_failed_login_is_rate_limited_with_429_and_retry_after(site):
    await create_user(site)
    await fail_five_times(site)
    # 5 attempts per 900 s: one comes back every 180 s.
    assert_rate_limited(await attempt(site, WRONG), max_retry_after=180)


async def test_after_five_failures_even_the_right_password_is_rate_limited(site):
    await create_user(site)
    await fail_five_times(site)
    response = await attempt(site, PASSWORD)
    assert_rate_limited(response, max_retry_after=180)
    assert response.json()["data"] is None


async def test_rate_limited_attempts_are_not_counted_as_failures(site):
    user = await create_user(site)
    await fail_five_times(site)
    for _ in range(3):
        assert code(await attempt(site, WRONG)) == "RATE_LIMITED"
    failures = await AuditLog.filter(action=AuditAction.LOGIN_FAILED, target_id=user.id).count()
    assert failures == 5


async def test_successful_logins_do_not_count(site):
    await create_user(site)
    for _ in range(6):
        assert succeeded(await attempt(site, PASSWORD))
    for _ in range(4):
        assert code(await attempt(site, WRONG)) == "UNAUTHENTICATED"
    assert succeeded(await attempt(site, PASSWORD))


async def test_another_ip_is_not_affected(site):
    await create_user(site)
    await fail_five_times(site, ip=HOME_IP)
    assert code(await attempt(site, PASSWORD, ip=HOME_IP)) == "RATE_LIMITED"
    assert succeeded(await attempt(site, PASSWORD, ip=OTHER_IP))


async def test_another_email_is_not_affected(site):
    await create_user(site, "ada@example.com")
    await create_user(site, "grace@example.com")
    await fail_five_times(site, email="ada@example.com")
    assert code(await attempt(site, PASSWORD, email="ada@example.com")) == "RATE_LIMITED"
    assert succeeded(await attempt(site, PASSWORD, email="grace@example.com"))


async def test_the_limit_ignores_the_case_and_spaces_of_the_email(site):
    await create_user(site)
    for email in ["ada@example.com", "ADA@example.com", " Ada@Example.com ", "ada@EXAMPLE.COM"]:
        assert code(await attempt(site, WRONG, email=email)) == "UNAUTHENTICATED"
    assert code(await attempt(site, WRONG, email="ada@example.com")) == "UNAUTHENTICATED"
    assert code(await attempt(site, PASSWORD, email="Ada@Example.com")) == "RATE_LIMITED"


async def test_an_unknown_email_is_limited_the_same_way(site):
    await fail_five_times(site, email="nobody@example.com")
    assert_rate_limited(await attempt(site, WRONG, email="nobody@example.com"), 180)


async def test_after_the_window_refills_the_user_can_log_in_again(site_factory):
    # 5 failures per second: a second after being limited, the bucket holds a full attempt.
    site = site_factory(login_failure_window_seconds=1)
    await create_user(site)
    for _ in range(50):  # fail faster than 5 per second refill, until limited
        response = await attempt(site, WRONG)
        if code(response) == "RATE_LIMITED":
            break
        assert code(response) == "UNAUTHENTICATED"
    else:
        pytest.fail("never rate limited")
    assert_rate_limited(response, max_retry_after=1)
    await asyncio.sleep(0.3)  # at 5 per second, more than one attempt has come back
    assert succeeded(await attempt(site, PASSWORD))


# Account emails: password reset and verification


async def test_password_reset_answers_true_until_limited_for_known_and_unknown_emails(site):
    await create_user(site)
    client = site.from_ip()
    for email in ["ada@example.com", "nobody@example.com"]:
        for _ in range(3):  # account_email_max_requests
            response = await graphql(client, RESET, {"email": email})
            assert response.json() == {
                "data": {"requestPasswordReset": True},
                "extensions": response.json()["extensions"],
            }
        limited = await graphql(client, RESET, {"email": email})
        assert_rate_limited(limited, max_retry_after=300)  # 3 per 900 s


async def test_password_reset_sends_no_email_once_limited(site):
    await create_user(site)
    client = site.from_ip()
    for _ in range(5):
        await graphql(client, RESET, {"email": "ada@example.com"})
    assert len(await sent_mail(site)) == 3


async def test_password_reset_limit_is_per_email_and_ip(site):
    await create_user(site)
    for _ in range(3):
        await graphql(site.from_ip(HOME_IP), RESET, {"email": "ada@example.com"})
    home = await graphql(site.from_ip(HOME_IP), RESET, {"email": "ada@example.com"})
    assert code(home) == "RATE_LIMITED"
    elsewhere = await graphql(site.from_ip(OTHER_IP), RESET, {"email": "ada@example.com"})
    assert elsewhere.json()["data"] == {"requestPasswordReset": True}
    other_email = await graphql(site.from_ip(HOME_IP), RESET, {"email": "grace@example.com"})
    assert other_email.json()["data"] == {"requestPasswordReset": True}


async def test_resend_verification_answers_true_until_limited(site):
    await create_user(site, status=UserStatus.PENDING_VERIFICATION)
    client = site.from_ip()
    for email in ["ada@example.com", "nobody@example.com"]:
        for _ in range(3):
            response = await graphql(client, RESEND, {"email": email})
            assert response.json()["data"] == {"resendVerificationEmail": True}
        assert_rate_limited(await graphql(client, RESEND, {"email": email}), 300)
    assert len(await sent_mail(site)) == 3


async def test_concurrent_failed_logins_cannot_exceed_the_limit(site):
    await create_user(site)
    responses = await asyncio.gather(*(attempt(site, WRONG) for _ in range(12)))
    codes = [code(response) for response in responses]
    assert codes.count("UNAUTHENTICATED") <= 5, codes
    assert codes.count("RATE_LIMITED") >= 7, codes
    assert code(await attempt(site, PASSWORD)) == "RATE_LIMITED"
