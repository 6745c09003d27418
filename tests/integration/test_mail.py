"""Mail: templates, the outbox mailer, and the SMTP mailer against a real aiosmtpd server."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.mail import (
    EmailMessage,
    MailDeliveryError,
    OutboxMailer,
    SmtpMailer,
    build_link,
    build_mailer,
    extract_links,
    render_email,
)
from tests.conftest import make_settings
from tests.smtp_server import (
    HOST,
    PERMANENT_FAILURE,
    TEMPORARY_FAILURE,
    SmtpTestServer,
    free_port,
    running_smtp_server,
)

APP_URL = "https://agora.test/app"


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    with running_smtp_server() as server:
        yield server


def smtp_settings(port: int, **overrides: Any) -> Any:
    return make_settings(
        smtp_host=HOST,
        smtp_port=port,
        smtp_starttls=False,
        smtp_timeout_seconds=5,
        app_url=APP_URL,
        **overrides,
    )


def json_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.json"))


def verification_mail(to: str = "ada@example.com", name: str = "Ada") -> EmailMessage:
    link = build_link(APP_URL, "/verify-email", token="tok-123")
    return render_email("verify_email", to, name=name, link=link)


async def test_smtp_mailer_delivers_text_and_html(smtp_server: SmtpTestServer) -> None:
    settings = smtp_settings(smtp_server.port)
    message = verification_mail()

    await SmtpMailer(settings).send(message)

    [received] = smtp_server.messages
    assert received.mail_from == "no-reply@agora.test"
    assert received.rcpt_tos == ["ada@example.com"]
    headers = received.message
    assert headers["From"] == "Agora <no-reply@agora.test>"
    assert headers["To"] == "ada@example.com"
    assert headers["Subject"] == message.subject == "Confirm your email address for Agora"
    assert headers["Message-ID"].endswith("@agora.test>")
    assert headers["Date"]
    link = f"{APP_URL}/verify-email?token=tok-123"
    text = received.part("text/plain")
    html = received.part("text/html")
    assert "Hi Ada," in text
    assert link in text
    assert f'href="{link}"' in html
    assert "<!DOCTYPE html>" in html


async def test_html_part_is_autoescaped_text_part_is_not(smtp_server: SmtpTestServer) -> None:
    name = "<script>alert('x')</script> & Co"
    message = verification_mail(name=name)
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co" in (message.html or "")
    assert "<script>" not in (message.html or "")
    assert f"Hi {name}," in message.text  # the text part is never parsed as HTML

    await SmtpMailer(smtp_settings(smtp_server.port)).send(message)

    [received] = smtp_server.messages
    assert "&lt;script&gt;" in received.part("text/html")
    assert "<script>" not in received.part("text/html")
    assert f"Hi {name}," in received.part("text/plain")


# aiosmtpd warns that AUTH without TLS is unsafe: true, and irrelevant on loopback.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_smtp_mailer_logs_in_when_credentials_are_set() -> None:
    with running_smtp_server(credentials=("mailer", "s3cret")) as server:
        settings = smtp_settings(server.port, smtp_user="mailer", smtp_password="s3cret")
        await SmtpMailer(settings).send(verification_mail())
        assert server.logins == ["mailer"]
        assert len(server.messages) == 1

        wrong = smtp_settings(server.port, smtp_user="mailer", smtp_password="wrong")
        with pytest.raises(MailDeliveryError) as caught:
            await SmtpMailer(wrong).send(verification_mail())
        assert caught.value.code == 535
        assert len(server.messages) == 1


@pytest.mark.parametrize(
    ("reply", "code", "permanent"),
    [(TEMPORARY_FAILURE, 451, False), (PERMANENT_FAILURE, 554, True)],
    ids=["temporary", "permanent"],
)
async def test_smtp_mailer_raises_when_the_server_refuses(
    reply: str, code: int, permanent: bool
) -> None:
    with running_smtp_server(reply=reply) as server:
        with pytest.raises(MailDeliveryError) as caught:
            await SmtpMailer(smtp_settings(server.port)).send(verification_mail())
        assert len(server.attempts) == 1
        assert server.messages == []
    assert caught.value.code == code
    assert caught.value.permanent is permanent
    assert str(code) in str(caught.value)


async def test_smtp_mailer_raises_when_nothing_listens() -> None:
    settings = smtp_settings(free_port())
    with pytest.raises(MailDeliveryError) as caught:
        await SmtpMailer(settings).send(verification_mail())
    assert caught.value.code is None
    assert f"{HOST}:{settings.smtp_port}" in str(caught.value)


async def test_smtp_mailer_refuses_a_header_injection(smtp_server: SmtpTestServer) -> None:
    message = EmailMessage(to="ada@example.com", subject="Hi\r\nBcc: eve@example.com", text="x")
    with pytest.raises(MailDeliveryError, match="invalid message"):
        await SmtpMailer(smtp_settings(smtp_server.port)).send(message)
    assert smtp_server.attempts == []


async def test_outbox_mailer_writes_a_file_and_logs_the_link(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agora.mail")
    outbox = tmp_path / "outbox" / "nested"  # created on first send
    mailer = OutboxMailer(outbox)
    message = verification_mail()

    await mailer.send(message)

    [path] = await asyncio.to_thread(json_files, outbox)
    stored = json.loads(await asyncio.to_thread(path.read_text, encoding="utf-8"))
    assert stored["to"] == "ada@example.com"
    assert stored["subject"] == message.subject
    assert stored["text"] == message.text
    assert stored["html"] == message.html
    assert stored["sent_at"].endswith("+00:00")
    assert mailer.sent == [message]

    [record] = [r for r in caplog.records if r.name == "agora.mail"]
    link = f"{APP_URL}/verify-email?token=tok-123"
    assert record.links == [link]  # type: ignore[attr-defined]
    assert link in record.getMessage()
    assert "a***@example.com" in record.getMessage()
    assert "ada@example.com" not in record.getMessage()
    assert "Welcome to Agora" not in record.getMessage()  # never the body


async def test_outbox_mailer_keeps_only_the_last_messages(tmp_path: Path) -> None:
    mailer = OutboxMailer(tmp_path, keep=2)
    for number in range(3):
        await mailer.send(EmailMessage(to="a@example.com", subject=f"n{number}", text="x"))
    assert [m.subject for m in mailer.sent] == ["n1", "n2"]
    assert len(await asyncio.to_thread(json_files, tmp_path)) == 3


async def test_outbox_mailer_raises_when_it_cannot_write(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(MailDeliveryError, match="outbox"):
        await OutboxMailer(blocker / "outbox").send(verification_mail())


def test_build_mailer_picks_smtp_only_when_a_host_is_set(tmp_path: Path) -> None:
    assert isinstance(build_mailer(make_settings(mail_outbox_dir=str(tmp_path))), OutboxMailer)
    assert isinstance(build_mailer(smtp_settings(2525)), SmtpMailer)


def test_every_template_renders_a_subject_text_and_html() -> None:
    link = build_link(APP_URL, "/reset-password", token="t")
    verify = render_email("verify_email", "a@example.com", name="Ada", link=link)
    reset = render_email("reset_password", "a@example.com", name="Ada", link=link)
    changed = render_email("password_changed", "a@example.com", name="Ada")
    assert reset.subject == "Reset your Agora password"
    assert "expires in 1 hour" in reset.text
    assert "expires in 1 hour" in (reset.html or "")
    assert "expires in 24 hours" in verify.text
    assert changed.subject == "Your Agora password was changed"
    assert extract_links(changed.text) == []
    for message in (verify, reset, changed):
        assert message.subject
        assert "\n" not in message.subject
        assert message.text.endswith("The Agora team\n")
        assert (message.html or "").startswith("<!DOCTYPE html>")
    custom = render_email("reset_password", "a@example.com", name="A", link=link, valid_for="2h")
    assert "expires in 2h" in custom.text


def test_render_email_names_unknown_templates_and_missing_context() -> None:
    with pytest.raises(ValueError, match="unknown mail template 'nope'"):
        render_email("nope", "a@example.com")
    with pytest.raises(ValueError, match="needs link"):
        render_email("verify_email", "a@example.com", name="Ada")


def test_build_link_encodes_the_query_and_keeps_the_app_path() -> None:
    assert build_link("https://a.test/app/", "/verify", token="a b&c=d/é") == (
        "https://a.test/app/verify?token=a+b%26c%3Dd%2F%C3%A9"
    )
    assert build_link("https://a.test", "reset") == "https://a.test/reset"
    assert extract_links("see https://a.test/x?t=1. and (https://b.test/y)") == [
        "https://a.test/x?t=1",
        "https://b.test/y",
    ]
