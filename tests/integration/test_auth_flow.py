"""The whole account life cycle through the API, with mail delivered to a real SMTP server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from models.audit import AuditLog
from models.auth import RefreshToken
from models.user import User, UserStatus
from tests.conftest import AppFactory, data, graphql
from tests.factories import create_user
from tests.smtp_server import SmtpTestServer, running_smtp_server

PASSWORD = "Sup3r-secret!"
NEW_PASSWORD = "An0ther-secret!"
TOKEN_IN_LINK = re.compile(r"token=([A-Za-z0-9_\-]+)")

REGISTER = """
mutation($input: RegisterInput!) { register(input: $input) { id name status email } }
"""
VERIFY = "mutation($token: String!) { verifyEmail(token: $token) { id status } }"
LOGIN = """
mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) {
    accessToken refreshToken tokenType expiresIn user { id name email }
  }
}
"""
REFRESH = """
mutation($token: String) { refreshToken(refreshToken: $token) { accessToken refreshToken } }
"""
LOGOUT = "mutation($token: String) { logout(refreshToken: $token) }"
ME = "{ me { id name email status permissions } }"


@pytest.fixture
def smtp() -> Iterator[SmtpTestServer]:
    with running_smtp_server() as server:
        yield server


@pytest.fixture
def client(client_factory: AppFactory, smtp: SmtpTestServer) -> httpx.AsyncClient:
    return client_factory(smtp_host=smtp.host, smtp_port=smtp.port, smtp_starttls=False)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def token_from_mail(smtp: SmtpTestServer, count: int, subject_word: str) -> str:
    messages = await smtp.wait_for_messages(count)
    mail = messages[count - 1].message
    assert subject_word.lower() in str(mail["Subject"]).lower()
    match = TOKEN_IN_LINK.search(messages[count - 1].part("text/plain"))
    assert match, "the email carries a link with the token"
    return match.group(1)


async def register_and_verify(
    client: httpx.AsyncClient, smtp: SmtpTestServer, email: str = "ada@example.com"
) -> None:
    await graphql(
        client, REGISTER, {"input": {"name": "Ada", "email": email, "password": PASSWORD}}
    )
    token = await token_from_mail(smtp, len(smtp.messages) + 1, "confirm")
    data(await graphql(client, VERIFY, {"token": token}))


async def login(client: httpx.AsyncClient, email: str = "ada@example.com") -> dict[str, Any]:
    return data(await graphql(client, LOGIN, {"email": email, "password": PASSWORD}))["login"]  # type: ignore[no-any-return]


async def test_register_verify_login_refresh_reuse_logout(client, smtp):
    registered = data(
        await graphql(
            client,
            REGISTER,
            {"input": {"name": "Ada", "email": "Ada@Example.com", "password": PASSWORD}},
        )
    )["register"]
    assert registered["status"] == "PENDING_VERIFICATION"
    assert registered["email"] is None  # anonymous callers never see emails

    pending = await graphql(client, LOGIN, {"email": "ada@example.com", "password": PASSWORD})
    assert pending.json()["errors"][0]["extensions"]["code"] == "EMAIL_NOT_VERIFIED"

    token = await token_from_mail(smtp, 1, "confirm")
    assert smtp.messages[0].message["To"] == "ada@example.com"
    verified = data(await graphql(client, VERIFY, {"token": token}))["verifyEmail"]
    assert verified == {"id": registered["id"], "status": "ACTIVE"}

    session = await login(client, "ADA@example.com")
    assert session["tokenType"] == "Bearer"
    assert session["expiresIn"] == 900
    assert session["user"]["email"] == "ada@example.com"

    me = data(await graphql(client, ME, headers=bearer(session["accessToken"])))["me"]
    assert me["id"] == registered["id"]
    assert me["permissions"] == ["READ_POSTS", "WRITE_POSTS"]

    rotated = data(await graphql(client, REFRESH, {"token": session["refreshToken"]}))
    rotated = rotated["refreshToken"]
    assert rotated["refreshToken"] != session["refreshToken"]
    assert data(await graphql(client, ME, headers=bearer(rotated["accessToken"])))["me"]

    # The old refresh token again: someone holds a copy, so the whole family is revoked.
    reuse = await graphql(client, REFRESH, {"token": session["refreshToken"]})
    assert reuse.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    revoked = await graphql(client, REFRESH, {"token": rotated["refreshToken"]})
    assert revoked.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    second = await login(client)
    assert data(await graphql(client, LOGOUT, {"token": second["refreshToken"]}))["logout"]
    after_logout = await graphql(client, REFRESH, {"token": second["refreshToken"]})
    assert after_logout.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_verification_token_works_once(client, smtp):
    await graphql(
        client,
        REGISTER,
        {"input": {"name": "Ada", "email": "ada@example.com", "password": PASSWORD}},
    )
    token = await token_from_mail(smtp, 1, "confirm")
    data(await graphql(client, VERIFY, {"token": token}))
    again = await graphql(client, VERIFY, {"token": token})
    assert again.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_password_reset_by_email_ends_every_session(client, smtp):
    await register_and_verify(client, smtp)
    session = await login(client)
    requested = await graphql(client, 'mutation { requestPasswordReset(email: "ada@example.com") }')
    assert data(requested) == {"requestPasswordReset": True}
    token = await token_from_mail(smtp, 2, "password")

    reset = await graphql(
        client,
        "mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }",
        {"t": token, "p": NEW_PASSWORD},
    )
    assert data(reset) == {"resetPassword": True}

    stale = await graphql(client, ME, headers=bearer(session["accessToken"]))
    assert stale.status_code == 401
    old_login = await graphql(client, LOGIN, {"email": "ada@example.com", "password": PASSWORD})
    assert old_login.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    fresh = await graphql(client, LOGIN, {"email": "ada@example.com", "password": NEW_PASSWORD})
    assert data(fresh)["login"]["accessToken"]
    await smtp.wait_for_messages(3)  # the "password changed" notice


async def test_password_reset_for_unknown_email_is_true_and_sends_nothing(client, smtp):
    response = await graphql(
        client, 'mutation { requestPasswordReset(email: "nobody@example.com") }'
    )
    assert data(response) == {"requestPasswordReset": True}
    await client.container.jobs.drain()
    assert smtp.messages == []


async def test_password_reset_token_stops_working_when_the_account_is_suspended(client, smtp):
    await register_and_verify(client, smtp)
    await graphql(client, 'mutation { requestPasswordReset(email: "ada@example.com") }')
    token = await token_from_mail(smtp, 2, "password")
    await User.filter(email="ada@example.com").update(status=UserStatus.SUSPENDED)
    reset = await graphql(
        client,
        "mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }",
        {"t": token, "p": NEW_PASSWORD},
    )
    assert reset.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_failing_smtp_server_does_not_fail_the_request_that_queued_the_mail(
    client_factory,
):
    """The registration succeeds at once; the mail job retries with backoff, then is kept
    as failed for inspection."""
    from services.jobs import InProcessJobQueue
    from tests.smtp_server import TEMPORARY_FAILURE

    with running_smtp_server(reply=TEMPORARY_FAILURE) as failing:
        client = client_factory(
            smtp_host=failing.host,
            smtp_port=failing.port,
            smtp_starttls=False,
            job_retry_delay_seconds=0.05,
        )
        response = await graphql(
            client,
            REGISTER,
            {"input": {"name": "Ada", "email": "ada@example.com", "password": PASSWORD}},
        )
        assert data(response)["register"]["status"] == "PENDING_VERIFICATION"
        jobs = client.container.jobs
        assert isinstance(jobs, InProcessJobQueue)
        attempts = await failing.wait_for_attempts(3)
        await jobs.drain()
    assert len(attempts) == 3
    # exponential backoff: 0.05 s, then 0.1 s (lower bounds only: a busy machine waits longer)
    assert attempts[1] - attempts[0] >= 0.05
    assert attempts[2] - attempts[1] >= 0.1
    [failed] = jobs.failed
    assert failed.name == "send_email"
    assert failed.attempts == 3


async def test_a_client_address_that_is_not_an_ip_is_recorded_as_unknown(
    client_factory: AppFactory,
) -> None:
    """A trusted proxy's X-Forwarded-For reaches the app unchecked: a login from such an
    "address" works, and its session and audit rows say the address is unknown."""
    client = client_factory(peer=("x" * 200, 50000))
    password = "Sup3r-secret!"
    hasher = client.container.passwords  # type: ignore[attr-defined]
    user = await create_user(password_hash=hasher.hash(password))

    answer = data(await graphql(client, LOGIN, {"email": user.email, "password": password}))

    assert answer["login"]["accessToken"]
    assert [row.ip for row in await AuditLog.filter(actor_id=user.id)] == [None]
    assert [row.ip for row in await RefreshToken.filter(user_id=user.id)] == [None]
