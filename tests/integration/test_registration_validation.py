"""Registration through the API: every field rule, all problems in one VALIDATION_ERROR,
case-insensitive unique emails, argon2id hashes, one verification email per account, and
the same name rule for profile updates."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from models.user import Role, User, UserStatus
from server.container import Container
from services.jobs.inprocess import InProcessJobQueue
from services.mail import EmailMessage, OutboxMailer
from tests.conftest import AppFactory, data, graphql

PASSWORD = "Sup3r-secret!"
REGISTER = """
mutation($input: RegisterInput!) { register(input: $input) { id name status } }
"""
LOGIN = """
mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken }
}
"""
UPDATE_PROFILE = """
mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { id name } }
"""


@pytest.fixture
def client(client_factory: AppFactory, tmp_path: Path) -> httpx.AsyncClient:
    return client_factory(mail_outbox_dir=str(tmp_path / "outbox"))


def container(client: httpx.AsyncClient) -> Container:
    return client.container  # type: ignore[attr-defined,no-any-return]


async def sent_mail(client: httpx.AsyncClient) -> list[EmailMessage]:
    """The messages the outbox mailer delivered, once every queued job has run."""
    jobs, mailer = container(client).jobs, container(client).mailer
    assert isinstance(jobs, InProcessJobQueue)
    assert isinstance(mailer, OutboxMailer)
    await jobs.drain()
    return mailer.sent


def only_error(response: httpx.Response) -> dict[str, Any]:
    errors = response.json()["errors"]
    assert len(errors) == 1, errors
    return errors[0]  # type: ignore[no-any-return]


def details(response: httpx.Response) -> dict[str, str]:
    """The VALIDATION_ERROR details as {field: message}, checking there is one per field."""
    error = only_error(response)
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    entries = error["extensions"]["details"]
    fields = [entry["field"] for entry in entries]
    assert len(fields) == len(set(fields)), entries
    return {entry["field"]: entry["message"] for entry in entries}


async def register(
    client: httpx.AsyncClient,
    name: str = "Ada Lovelace",
    email: str = "ada@example.com",
    password: str = PASSWORD,
) -> httpx.Response:
    return await graphql(
        client, REGISTER, {"input": {"name": name, "email": email, "password": password}}
    )


async def active_user_session(client: httpx.AsyncClient) -> dict[str, str]:
    await User.create(
        name="Ada Lovelace",
        email="ada@example.com",
        password_hash=container(client).passwords.hash(PASSWORD),
        status=UserStatus.ACTIVE,
        role=Role.USER,
    )
    login = data(await graphql(client, LOGIN, {"email": "ada@example.com", "password": PASSWORD}))
    return {"Authorization": f"Bearer {login['login']['accessToken']}"}


# Field rules, one at a time


# The edge cases of each rule are in tests/unit/test_validation.py; here, that the API
# applies the rule and reports it on the right field.
@pytest.mark.parametrize("name", ["   A   ", "x" * 51], ids=["1-after-trim", "51-chars"])
async def test_register_refuses_a_name_outside_2_to_50_characters(client, name):
    response = await register(client, name=name)
    assert details(response) == {"input.name": "Name must be 2 to 50 characters long"}
    assert await User.all().count() == 0


@pytest.mark.parametrize("name", ["Al", "x" * 50])
async def test_register_accepts_names_of_2_and_50_characters(client, name):
    assert data(await register(client, name=name))["register"]["name"] == name


@pytest.mark.parametrize("email", ["ada@", "ada @example.com"])
async def test_register_refuses_an_invalid_email(client, email):
    response = await register(client, email=email)
    assert details(response) == {"input.email": "Enter a valid email address"}


@pytest.mark.parametrize(
    ("password", "lacking"),
    [
        ("sup3r-secret!", "an upper-case letter"),
        ("SUP3R-SECRET!", "a lower-case letter"),
        ("Super-secret!", "a digit"),
        ("Sup3rsecret", "a special character"),
        ("Sh0rt!", "at least 8 characters"),
    ],
    ids=["no-upper", "no-lower", "no-digit", "no-special", "too-short"],
)
async def test_register_refuses_a_password_lacking_a_requirement(client, password, lacking):
    response = await register(client, password=password)
    assert details(response) == {"input.password": f"Password must contain {lacking}"}


async def test_register_refuses_a_password_over_128_characters(client):
    response = await register(client, password="Aa1!" + "a" * 125)
    assert details(response) == {"input.password": "Password must be at most 128 characters long"}


async def test_register_accepts_a_password_of_exactly_128_characters(client):
    assert data(await register(client, password="Aa1!" + "a" * 124))["register"]["id"]


# All problems at once


async def test_several_bad_fields_give_one_validation_error_with_one_detail_each(client):
    response = await register(client, name=" x ", email="not-an-email", password="abc")
    assert response.status_code == 200
    error = only_error(response)
    assert error["path"] == ["register"]
    assert response.json()["data"] is None
    assert details(response) == {
        "input.name": "Name must be 2 to 50 characters long",
        "input.email": "Enter a valid email address",
        "input.password": (
            "Password must contain at least 8 characters, an upper-case letter, a digit, "
            "a special character"
        ),
    }
    assert await User.all().count() == 0


async def test_validation_is_reported_before_a_duplicate_email(client):
    data(await register(client))
    response = await register(client, email="ADA@example.com", password="weakweakweak")
    assert details(response) == {
        "input.password": (
            "Password must contain an upper-case letter, a digit, a special character"
        )
    }


# Uniqueness


async def test_register_refuses_an_email_that_differs_only_in_case(client):
    data(await register(client, email="ada@example.com"))
    response = await register(client, name="Other Ada", email="ADA@example.com")
    error = only_error(response)
    assert error["extensions"]["code"] == "CONFLICT"
    assert await User.all().count() == 1


async def test_concurrent_registrations_of_one_email_create_one_account(client):
    responses = await asyncio.gather(
        register(client, name="First Ada", email="ada@example.com"),
        register(client, name="Second Ada", email="Ada@Example.com"),
    )
    codes = [
        response.json()["errors"][0]["extensions"]["code"]
        for response in responses
        if "errors" in response.json()
    ]
    assert codes == ["CONFLICT"]
    assert await User.all().count() == 1
    assert len(await sent_mail(client)) == 1


async def test_register_stores_the_email_trimmed_and_lower_cased(client):
    data(await register(client, email="  Ada.Lovelace@Example.COM "))
    user = await User.get()
    assert user.email == "ada.lovelace@example.com"


# What is stored and sent


async def test_register_stores_an_argon2id_hash_never_the_password(client):
    data(await register(client))
    user = await User.get()
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert container(client).passwords.verify(user.password_hash, PASSWORD)


async def test_a_new_user_is_pending_verification_with_the_user_role(client):
    registered = data(await register(client))["register"]
    assert registered["status"] == "PENDING_VERIFICATION"
    user = await User.get()
    assert user.status is UserStatus.PENDING_VERIFICATION
    assert user.role is Role.USER
    assert user.email_verified_at is None


async def test_register_queues_exactly_one_verification_email(client):
    data(await register(client))
    sent = await sent_mail(client)
    assert len(sent) == 1
    assert sent[0].to == "ada@example.com"
    assert "/verify-email?token=" in sent[0].text


async def test_a_refused_registration_sends_no_email(client):
    await register(client, password="weak")
    data(await register(client))
    await register(client, name="Ada Again")  # duplicate email
    assert len(await sent_mail(client)) == 1


async def test_register_trims_and_normalises_whitespace_in_the_name(client):
    registered = data(await register(client, name="  Ada \t  Lovelace\n "))["register"]
    assert registered["name"] == "Ada Lovelace"
    assert (await User.get()).name == "Ada Lovelace"


# Profile updates follow the same name rule


async def test_update_profile_trims_and_normalises_the_name(client):
    headers = await active_user_session(client)
    response = await graphql(client, UPDATE_PROFILE, {"input": {"name": "  Ada   King  "}}, headers)
    assert data(response)["updateProfile"]["name"] == "Ada King"
    assert (await User.get()).name == "Ada King"


@pytest.mark.parametrize("name", ["A", "   ", "x" * 51])
async def test_update_profile_refuses_a_name_outside_2_to_50_characters(client, name):
    headers = await active_user_session(client)
    response = await graphql(client, UPDATE_PROFILE, {"input": {"name": name}}, headers)
    assert details(response) == {"input.name": "Name must be 2 to 50 characters long"}
    assert (await User.get()).name == "Ada Lovelace"


async def test_update_profile_without_a_name_changes_nothing(client):
    headers = await active_user_session(client)
    response = await graphql(client, UPDATE_PROFILE, {"input": {}}, headers)
    assert data(response)["updateProfile"]["name"] == "Ada Lovelace"
