"""The development pages at the links of the verification and password-reset emails: a GET
renders a form and changes nothing, its POST runs the mutation and shows the outcome;
production, or an APP_URL that is not this server, has no such page."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from models.user import Role, User, UserStatus
from server.container import Container
from services.jobs.inprocess import InProcessJobQueue
from services.mail import extract_links
from tests.conftest import AppFactory, data, graphql

PASSWORD = "Sup3r-secret!"
NEW_PASSWORD = "An0ther-secret!"
HERE = "http://testserver"  # the test client's origin
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
USED_TOKEN = "The token is invalid, expired or already used"

REGISTER = "mutation($input: RegisterInput!) { register(input: $input) { id } }"
REQUEST_RESET = "mutation($email: String!) { requestPasswordReset(email: $email) }"
LOGIN = """
mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken }
}
"""


def dev_client(client_factory: AppFactory, tmp_path: Path, **overrides: Any) -> httpx.AsyncClient:
    settings: dict[str, Any] = {
        "app_env": "development",
        "app_url": HERE,
        "mail_outbox_dir": str(tmp_path / "outbox"),
    }
    return client_factory(**{**settings, **overrides})


@pytest.fixture
def client(client_factory: AppFactory, tmp_path: Path) -> httpx.AsyncClient:
    return dev_client(client_factory, tmp_path)


async def outbox_links(client: httpx.AsyncClient, tmp_path: Path) -> list[str]:
    """The links of the messages in the outbox directory, oldest first, once every queued
    job has run."""
    container: Container = client.container  # type: ignore[attr-defined]
    assert isinstance(container.jobs, InProcessJobQueue)
    await container.jobs.drain()
    files = sorted((tmp_path / "outbox").glob("*.json"))
    return [link for file in files for link in extract_links(json.loads(file.read_text())["text"])]


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


async def verification_link(client: httpx.AsyncClient, tmp_path: Path) -> str:
    variables = {"input": {"name": "Ada", "email": "ada@example.com", "password": PASSWORD}}
    data(await graphql(client, REGISTER, variables))
    [link] = await outbox_links(client, tmp_path)
    return link


async def reset_link(client: httpx.AsyncClient, tmp_path: Path) -> str:
    container: Container = client.container  # type: ignore[attr-defined]
    await User.create(
        name="Ada",
        email="ada@example.com",
        password_hash=container.passwords.hash(PASSWORD),
        status=UserStatus.ACTIVE,
        role=Role.USER,
    )
    data(await graphql(client, REQUEST_RESET, {"email": "ada@example.com"}))
    [link] = await outbox_links(client, tmp_path)
    return link


async def status_of_ada() -> UserStatus:
    return (await User.get(email="ada@example.com")).status


async def logs_in(client: httpx.AsyncClient, password: str) -> bool:
    body = (await graphql(client, LOGIN, {"email": "ada@example.com", "password": password})).json()
    return "errors" not in body


def hidden_token(page: str) -> str:
    match = re.search(r'<input type="hidden" name="token" value="([^"]*)">', page)
    assert match, page
    return match.group(1)


# Verification


async def test_the_verification_link_answers_200_with_a_form_in_development(
    client_factory, tmp_path
):
    # The default APP_URL (unset): the link in the outbox leads to this server.
    client = dev_client(client_factory, tmp_path, app_url="http://127.0.0.1:8000")
    link = await verification_link(client, tmp_path)
    assert link.startswith("http://127.0.0.1:8000/verify-email?token=")

    response = await client.get(link)

    assert response.status_code == 200
    assert '<form method="post" action="/verify-email">' in response.text
    assert hidden_token(response.text) == token_of(link)


async def test_opening_the_verification_link_changes_nothing(client, tmp_path):
    link = await verification_link(client, tmp_path)

    await client.get(link)

    assert await status_of_ada() is UserStatus.PENDING_VERIFICATION


async def test_a_head_request_at_the_link_changes_nothing(client, tmp_path):
    link = await verification_link(client, tmp_path)

    response = await client.head(link, headers=SAME_ORIGIN)

    assert response.status_code == 200
    assert await status_of_ada() is UserStatus.PENDING_VERIFICATION


async def test_the_verification_form_verifies_the_email(client, tmp_path):
    token = token_of(await verification_link(client, tmp_path))

    response = await client.post("/verify-email", data={"token": token}, headers=SAME_ORIGIN)

    assert response.status_code == 200
    assert "Your email address is verified" in response.text
    assert "<form" not in response.text
    assert await status_of_ada() is UserStatus.ACTIVE
    assert await logs_in(client, PASSWORD)


async def test_the_verification_form_shows_the_error_of_a_used_token(client, tmp_path):
    token = token_of(await verification_link(client, tmp_path))
    await client.post("/verify-email", data={"token": token}, headers=SAME_ORIGIN)

    response = await client.post("/verify-email", data={"token": token}, headers=SAME_ORIGIN)

    assert response.status_code == 400
    assert USED_TOKEN in response.text
    assert "<form" not in response.text


async def test_the_verification_form_shows_the_error_of_a_bad_token(client, tmp_path):
    await verification_link(client, tmp_path)

    response = await client.post("/verify-email", data={"token": "forged"}, headers=SAME_ORIGIN)

    assert response.status_code == 400
    assert USED_TOKEN in response.text
    assert await status_of_ada() is UserStatus.PENDING_VERIFICATION


async def test_a_form_with_too_many_fields_is_refused_with_a_page(client, tmp_path):
    token = token_of(await verification_link(client, tmp_path))
    fields = {"token": token, **{f"extra{index}": "x" for index in range(10)}}

    response = await client.post("/verify-email", data=fields, headers=SAME_ORIGIN)

    assert response.status_code == 400
    assert "Unreadable form" in response.text
    assert await status_of_ada() is UserStatus.PENDING_VERIFICATION


async def test_a_link_without_a_token_says_so(client):
    response = await client.get("/verify-email")

    assert response.status_code == 400
    assert "This link has no token" in response.text
    assert "<form" not in response.text


# Password reset


async def test_the_reset_link_answers_200_with_a_password_form(client, tmp_path):
    link = await reset_link(client, tmp_path)
    assert link.startswith(f"{HERE}/reset-password?token=")

    response = await client.get(link)

    assert response.status_code == 200
    assert '<form method="post" action="/reset-password">' in response.text
    assert '<input type="password" name="newPassword"' in response.text
    assert hidden_token(response.text) == token_of(link)
    assert await logs_in(client, PASSWORD)


async def test_the_reset_form_sets_the_new_password(client, tmp_path):
    token = token_of(await reset_link(client, tmp_path))

    response = await client.post(
        "/reset-password",
        data={"token": token, "newPassword": NEW_PASSWORD},
        headers=SAME_ORIGIN,
    )

    assert response.status_code == 200
    assert "Your password is changed" in response.text
    assert await logs_in(client, NEW_PASSWORD)
    assert not await logs_in(client, PASSWORD)


async def test_the_reset_form_shows_the_password_rules_broken_and_asks_again(client, tmp_path):
    token = token_of(await reset_link(client, tmp_path))

    response = await client.post(
        "/reset-password", data={"token": token, "newPassword": "short"}, headers=SAME_ORIGIN
    )

    assert response.status_code == 400
    assert "Input validation failed" in response.text
    assert "Password must contain at least 8 characters" in response.text
    # The token was not spent: the form is there again, with it.
    assert hidden_token(response.text) == token
    assert await logs_in(client, PASSWORD)


async def test_the_reset_form_shows_the_error_of_a_used_token(client, tmp_path):
    token = token_of(await reset_link(client, tmp_path))
    fields = {"token": token, "newPassword": NEW_PASSWORD}
    await client.post("/reset-password", data=fields, headers=SAME_ORIGIN)

    response = await client.post(
        "/reset-password", data={**fields, "newPassword": "Thi5-is-another!"}, headers=SAME_ORIGIN
    )

    assert response.status_code == 400
    assert USED_TOKEN in response.text
    assert "<form" not in response.text
    assert await logs_in(client, NEW_PASSWORD)


# Cross-site forms, production, another APP_URL


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
    ],
    ids=["cross-site", "same-site", "other-origin", "opaque-origin"],
)
async def test_a_form_posted_from_another_site_is_refused(client, tmp_path, headers):
    token = token_of(await verification_link(client, tmp_path))

    response = await client.post("/verify-email", data={"token": token}, headers=headers)

    assert response.status_code == 403
    assert await status_of_ada() is UserStatus.PENDING_VERIFICATION


async def test_a_form_posted_with_its_own_origin_is_accepted(client, tmp_path):
    token = token_of(await verification_link(client, tmp_path))

    response = await client.post("/verify-email", data={"token": token}, headers={"Origin": HERE})

    assert response.status_code == 200
    assert await status_of_ada() is UserStatus.ACTIVE


@pytest.mark.parametrize("path", ["/verify-email", "/reset-password"])
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_production_serves_no_email_pages(client_factory, tmp_path, path, method):
    client = dev_client(client_factory, tmp_path, app_env="production")

    response = await client.request(method, f"{path}?token=abc", headers=SAME_ORIGIN)

    assert response.status_code == 404


@pytest.mark.parametrize(
    "app_url",
    ["http://localhost:3000", "http://testserver/app", "https://testserver"],
    ids=["other-host", "with-a-path", "other-scheme"],
)
async def test_an_app_url_elsewhere_leaves_the_links_to_the_frontend(
    client_factory, tmp_path, app_url
):
    client = dev_client(client_factory, tmp_path, app_url=app_url)

    response = await client.get("/verify-email?token=abc")

    assert response.status_code == 404
    assert f"APP_URL ({app_url}) is not this server" in response.text


# The pages under their own CSP


async def test_a_page_allows_only_its_own_style_and_a_form_to_itself(client):
    response = await client.get("/reset-password?token=abc")

    csp = response.headers["content-security-policy"]
    style = re.search(r"<style>(.*?)</style>", response.text, re.DOTALL)
    assert style
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in csp
    assert "default-src 'none'" in csp
    assert "form-action 'self'" in csp
    assert "<script" not in response.text
    assert response.headers["cache-control"] == "no-store"


async def test_a_token_is_escaped_into_the_page(client):
    response = await client.get('/verify-email?token="><script>alert(1)</script>')

    assert "<script>" not in response.text
    assert hidden_token(response.text) == "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
