"""The development pages at the email links in a real headless Chromium against a real
uvicorn: the browser honours their CSP (the style by hash, the form posting to itself),
its form POST passes the same-origin check, and the flow completes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from models.user import Role, User, UserStatus
from services.jobs.inprocess import InProcessJobQueue
from services.mail import extract_links
from tests.e2e.browser import CHROMIUM, chromium_page
from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium package")

PASSWORD = "Sup3r-secret!"
NEW_PASSWORD = "An0ther-secret!"


async def send_link(server: LiveServer, outbox: Path, query: str, variables: dict[str, Any]) -> str:
    """The link of the one email the mutation sends, read from the outbox directory."""
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.post("/graphql", json={"query": query, "variables": variables})
        assert "errors" not in response.json(), response.json()
    assert isinstance(server.container.jobs, InProcessJobQueue)
    await server.container.jobs.drain()
    return only_link(outbox)


def only_link(outbox: Path) -> str:
    [mail] = outbox.glob("*.json")
    [link] = extract_links(json.loads(mail.read_text())["text"])
    return link


@pytest.fixture
async def server(live_server_factory, tmp_path) -> LiveServer:
    return await live_server_factory(app_env="development", mail_outbox_dir=str(tmp_path))  # type: ignore[no-any-return]


async def test_a_browser_verifies_an_email_from_the_link(server, tmp_path):
    link = await send_link(
        server,
        tmp_path,
        "mutation($input: RegisterInput!) { register(input: $input) { id } }",
        {"input": {"name": "Ada", "email": "ada@example.com", "password": PASSWORD}},
    )

    async with chromium_page() as page:
        await page.open(link)
        assert "Verify my email" in await page.text()
        assert (await User.get(email="ada@example.com")).status is UserStatus.PENDING_VERIFICATION
        await page.run_and_wait_for_load("document.querySelector('button').click()")
        text = await page.text()
        log = page.log

    assert "Your email address is verified" in text
    assert (await User.get(email="ada@example.com")).status is UserStatus.ACTIVE
    assert not [entry for entry in log if "Content Security Policy" in entry]


async def test_a_browser_resets_a_password_from_the_link(server, tmp_path):
    await User.create(
        name="Ada",
        email="ada@example.com",
        password_hash=server.container.passwords.hash(PASSWORD),
        status=UserStatus.ACTIVE,
        role=Role.USER,
    )
    link = await send_link(
        server,
        tmp_path,
        "mutation($email: String!) { requestPasswordReset(email: $email) }",
        {"email": "ada@example.com"},
    )

    async with chromium_page() as page:
        await page.open(link)
        await page.run_and_wait_for_load(
            f"document.querySelector('input[name=newPassword]').value = '{NEW_PASSWORD}';"
            "document.querySelector('button').click()"
        )
        text = await page.text()
        log = page.log

    assert "Your password is changed" in text
    user = await User.get(email="ada@example.com")
    assert server.container.passwords.verify(user.password_hash, NEW_PASSWORD)
    assert not [entry for entry in log if "Content Security Policy" in entry]
