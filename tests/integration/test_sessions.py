"""Sessions: rotating refresh tokens in families (reuse revokes the family, concurrent
rotations cannot both win), the httpOnly cookie mode, sessions ended at once by
suspension, deletion, logoutAll and password changes, argon2 parameter upgrades at login,
and the audit rows of logins and password changes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher as Argon2Hasher
from argon2 import Type

from models.audit import AuditAction, AuditLog
from models.auth import RefreshToken
from models.user import Role, User, UserStatus
from server.container import Container
from tests.conftest import AppFactory, data, graphql
from vocabulary.relay import to_global_id

PASSWORD = "Sup3r-secret!"
NEW_PASSWORD = "An0ther-secret!"
CLIENT_IP = "203.0.113.7"  # the conftest client's address
COOKIE = "agora_refresh"
LOGIN = """
mutation($email: String!, $password: String!, $useCookie: Boolean! = false) {
  login(email: $email, password: $password, useCookie: $useCookie) {
    accessToken refreshToken tokenType expiresIn user { id email }
  }
}
"""
REFRESH = """
mutation($token: String) { refreshToken(refreshToken: $token) { accessToken refreshToken } }
"""
LOGOUT = "mutation($token: String) { logout(refreshToken: $token) }"
ME = "{ me { id } }"
CHANGE_PASSWORD = """
mutation($current: String!, $new: String!) {
  changePassword(currentPassword: $current, newPassword: $new)
}
"""
SUSPEND = "mutation($id: ID!) { suspendUser(id: $id) { status } }"
DELETE = "mutation($id: ID!) { deleteUser(id: $id) }"
REGISTER = """
mutation($input: RegisterInput!) { register(input: $input) { id status } }
"""


@pytest.fixture
def client(client_factory: AppFactory, tmp_path: Path) -> httpx.AsyncClient:
    return client_factory(mail_outbox_dir=str(tmp_path / "outbox"))


def container(client: httpx.AsyncClient) -> Container:
    return client.container  # type: ignore[attr-defined,no-any-return]


def error_code(response: httpx.Response) -> str:
    errors = response.json()["errors"]
    assert len(errors) == 1, errors
    return errors[0]["extensions"]["code"]  # type: ignore[no-any-return]


def bearer(session: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['accessToken']}"}


async def create_user(
    client: httpx.AsyncClient,
    email: str = "ada@example.com",
    role: Role = Role.USER,
    password_hash: str | None = None,
) -> User:
    return await User.create(
        name="Ada Lovelace" if role is Role.USER else f"{role.value.title()} Person",
        email=email,
        password_hash=password_hash or container(client).passwords.hash(PASSWORD),
        status=UserStatus.ACTIVE,
        role=role,
    )


async def login(
    client: httpx.AsyncClient, email: str = "ada@example.com", password: str = PASSWORD
) -> dict[str, Any]:
    response = await graphql(client, LOGIN, {"email": email, "password": password})
    return data(response)["login"]  # type: ignore[no-any-return]


async def refresh(client: httpx.AsyncClient, token: str | None) -> httpx.Response:
    return await graphql(client, REFRESH, {"token": token})


async def refresh_works(client: httpx.AsyncClient, token: str) -> bool:
    body = (await refresh(client, token)).json()
    if "errors" in body:
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        return False
    return True


async def access_works(client: httpx.AsyncClient, session: dict[str, Any]) -> bool:
    response = await graphql(client, ME, headers=bearer(session))
    if response.status_code == 401:
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        return False
    return data(response)["me"] is not None


async def admin_session(client: httpx.AsyncClient) -> dict[str, Any]:
    await create_user(client, "admin@example.com", Role.ADMIN)
    return await login(client, "admin@example.com")


def set_cookie_headers(response: httpx.Response) -> list[str]:
    return [
        value for value in response.headers.get_list("set-cookie") if value.startswith(f"{COOKIE}=")
    ]


def cookie_attributes(header: str) -> tuple[str, dict[str, str]]:
    """The value of the cookie and its attributes (names lower-cased)."""
    first, *rest = [part.strip() for part in header.split(";")]
    value = first.split("=", 1)[1].strip('"')
    attributes = {}
    for part in rest:
        name, _, attribute_value = part.partition("=")
        attributes[name.lower()] = attribute_value
    return value, attributes


# Rotation and reuse


async def test_refresh_returns_a_new_pair_that_works(client):
    user = await create_user(client)
    session = await login(client)
    rotated = data(await refresh(client, session["refreshToken"]))["refreshToken"]
    assert rotated["refreshToken"] not in ("", session["refreshToken"])
    assert rotated["accessToken"] != session["accessToken"]
    me = data(await graphql(client, ME, headers=bearer(rotated)))["me"]
    assert me == {"id": to_global_id("User", user.id)}


async def test_a_rotated_refresh_token_is_refused(client):
    await create_user(client)
    session = await login(client)
    data(await refresh(client, session["refreshToken"]))
    assert error_code(await refresh(client, session["refreshToken"])) == "UNAUTHENTICATED"


async def test_reusing_a_rotated_token_revokes_the_token_that_replaced_it(client):
    await create_user(client)
    session = await login(client)
    rotated = data(await refresh(client, session["refreshToken"]))["refreshToken"]
    assert not await refresh_works(client, session["refreshToken"])  # reuse
    assert not await refresh_works(client, rotated["refreshToken"])


async def test_reuse_is_audited_and_revokes_only_that_family(client):
    user = await create_user(client)
    stolen = await login(client)
    other_device = await login(client)
    data(await refresh(client, stolen["refreshToken"]))
    assert not await refresh_works(client, stolen["refreshToken"])
    assert await refresh_works(client, other_device["refreshToken"])
    [row] = await AuditLog.filter(action=AuditAction.REFRESH_TOKEN_REUSED)
    assert row.target_id == user.id


async def test_two_concurrent_refreshes_with_one_token_cannot_both_succeed(client):
    await create_user(client)
    session = await login(client)
    responses = await asyncio.gather(
        refresh(client, session["refreshToken"]), refresh(client, session["refreshToken"])
    )
    outcomes = [response.json() for response in responses]
    succeeded = [body for body in outcomes if "errors" not in body]
    assert len(succeeded) <= 1
    for body in outcomes:
        if "errors" in body:
            assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert not await refresh_works(client, session["refreshToken"])


async def test_an_unknown_refresh_token_is_refused(client):
    assert error_code(await refresh(client, "not-a-refresh-token")) == "UNAUTHENTICATED"


async def test_an_expired_refresh_token_is_refused(client):
    await create_user(client)
    session = await login(client)
    await RefreshToken.all().update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert not await refresh_works(client, session["refreshToken"])


async def test_logout_revokes_the_refresh_token(client):
    await create_user(client)
    session = await login(client)
    assert data(await graphql(client, LOGOUT, {"token": session["refreshToken"]})) == {
        "logout": True
    }
    assert not await refresh_works(client, session["refreshToken"])


async def test_refresh_tokens_are_stored_only_as_hashes(client):
    await create_user(client)
    session = await login(client)
    [stored] = await RefreshToken.all()
    assert stored.token_hash != session["refreshToken"]
    assert session["refreshToken"] not in stored.token_hash


# Cookie mode


async def cookie_login(client: httpx.AsyncClient) -> httpx.Response:
    return await graphql(
        client, LOGIN, {"email": "ada@example.com", "password": PASSWORD, "useCookie": True}
    )


async def test_cookie_login_sets_an_httponly_strict_cookie_on_the_graphql_path(client):
    await create_user(client)
    response = await cookie_login(client)
    [header] = set_cookie_headers(response)
    value, attributes = cookie_attributes(header)
    assert value
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "strict"
    assert attributes["path"] == "/graphql"
    assert attributes["max-age"] == str(7 * 24 * 3600)
    assert "secure" not in attributes  # outside production (plain-HTTP development)


async def test_cookie_login_returns_an_empty_refresh_token_in_the_body(client):
    await create_user(client)
    session = data(await cookie_login(client))["login"]
    assert session["refreshToken"] == ""
    assert await access_works(client, session)


async def test_login_without_use_cookie_sets_no_cookie(client):
    await create_user(client)
    response = await graphql(client, LOGIN, {"email": "ada@example.com", "password": PASSWORD})
    assert set_cookie_headers(response) == []
    assert data(response)["login"]["refreshToken"]


async def test_refresh_without_an_argument_uses_the_cookie_and_sets_a_new_one(client):
    await create_user(client)
    [first] = set_cookie_headers(await cookie_login(client))
    old_value, _ = cookie_attributes(first)
    response = await refresh(client, None)  # the client's jar sends the cookie
    rotated = data(response)["refreshToken"]
    assert rotated["refreshToken"] == ""
    assert await access_works(client, rotated)
    [second] = set_cookie_headers(response)
    new_value, attributes = cookie_attributes(second)
    assert new_value != old_value
    assert "httponly" in attributes
    assert attributes["path"] == "/graphql"
    assert client.cookies[COOKIE] == new_value
    assert not await refresh_works(client, old_value)  # the old cookie value was rotated


async def test_logout_without_an_argument_revokes_the_cookie_session_and_clears_it(client):
    await create_user(client)
    [header] = set_cookie_headers(await cookie_login(client))
    value, _ = cookie_attributes(header)
    response = await graphql(client, LOGOUT, {})
    assert data(response) == {"logout": True}
    [cleared] = set_cookie_headers(response)
    _, attributes = cookie_attributes(cleared)
    assert attributes["max-age"] == "0"
    assert attributes["path"] == "/graphql"
    assert COOKIE not in client.cookies
    assert not await refresh_works(client, value)


async def test_a_get_never_uses_the_refresh_cookie(client):
    await create_user(client)
    [header] = set_cookie_headers(await cookie_login(client))
    value, _ = cookie_attributes(header)
    response = await client.get(
        "/graphql", params={"query": "mutation { refreshToken { accessToken } }"}
    )
    assert response.status_code == 405
    assert set_cookie_headers(response) == []
    assert await refresh_works(client, value)  # the cookie's session was never touched


async def test_refresh_without_an_argument_or_a_cookie_is_bad_user_input(client):
    assert error_code(await refresh(client, None)) == "BAD_USER_INPUT"


async def test_logout_without_an_argument_or_a_cookie_is_bad_user_input(client):
    assert error_code(await graphql(client, LOGOUT, {})) == "BAD_USER_INPUT"


async def test_an_explicit_refresh_token_is_answered_in_the_body_not_the_cookie(client):
    await create_user(client)
    await cookie_login(client)  # a cookie is present
    session = await login(client)
    response = await refresh(client, session["refreshToken"])
    assert data(response)["refreshToken"]["refreshToken"]
    assert set_cookie_headers(response) == []


# Suspension, deletion, logoutAll, password change: sessions end at once


async def test_suspension_refuses_the_users_live_access_token_at_once(client):
    admin = await admin_session(client)
    user = await create_user(client)
    session = await login(client)
    assert await access_works(client, session)
    data(await graphql(client, SUSPEND, {"id": to_global_id("User", user.id)}, bearer(admin)))
    assert not await access_works(client, session)


async def test_suspension_revokes_the_users_refresh_tokens(client):
    admin = await admin_session(client)
    user = await create_user(client)
    sessions = [await login(client), await login(client)]
    data(await graphql(client, SUSPEND, {"id": to_global_id("User", user.id)}, bearer(admin)))
    for session in sessions:
        assert not await refresh_works(client, session["refreshToken"])


async def test_a_suspended_user_cannot_log_in(client):
    admin = await admin_session(client)
    user = await create_user(client)
    data(await graphql(client, SUSPEND, {"id": to_global_id("User", user.id)}, bearer(admin)))
    response = await graphql(client, LOGIN, {"email": "ada@example.com", "password": PASSWORD})
    assert error_code(response) == "FORBIDDEN"


async def test_a_suspended_users_wrong_password_is_still_just_invalid_credentials(client):
    admin = await admin_session(client)
    user = await create_user(client)
    data(await graphql(client, SUSPEND, {"id": to_global_id("User", user.id)}, bearer(admin)))
    response = await graphql(client, LOGIN, {"email": "ada@example.com", "password": "Wr0ng!pass"})
    assert error_code(response) == "UNAUTHENTICATED"


async def test_deletion_refuses_the_users_access_and_refresh_tokens_at_once(client):
    admin = await admin_session(client)
    user = await create_user(client)
    session = await login(client)
    data(await graphql(client, DELETE, {"id": to_global_id("User", user.id)}, bearer(admin)))
    assert not await access_works(client, session)
    assert not await refresh_works(client, session["refreshToken"])


async def test_deletion_erases_the_users_email_name_and_password(client):
    admin = await admin_session(client)
    user = await create_user(client)
    data(await graphql(client, DELETE, {"id": to_global_id("User", user.id)}, bearer(admin)))
    erased = await User.get(id=user.id)
    assert erased.deleted_at is not None
    assert erased.name == "Deleted user"
    assert "ada" not in erased.email
    assert erased.email.endswith(".invalid")
    assert not container(client).passwords.verify(erased.password_hash, PASSWORD)
    lookup = "query($id: ID!) { user(id: $id) { id } }"
    assert data(await graphql(client, lookup, {"id": to_global_id("User", user.id)})) == {
        "user": None
    }


async def test_a_deleted_user_cannot_log_in(client):
    admin = await admin_session(client)
    user = await create_user(client)
    data(await graphql(client, DELETE, {"id": to_global_id("User", user.id)}, bearer(admin)))
    response = await graphql(client, LOGIN, {"email": "ada@example.com", "password": PASSWORD})
    assert error_code(response) == "UNAUTHENTICATED"


async def test_the_email_of_a_deleted_user_can_register_again(client):
    admin = await admin_session(client)
    user = await create_user(client)
    data(await graphql(client, DELETE, {"id": to_global_id("User", user.id)}, bearer(admin)))
    response = await graphql(
        client,
        REGISTER,
        {"input": {"name": "Ada Again", "email": "ADA@example.com", "password": PASSWORD}},
    )
    registered = data(response)["register"]
    assert registered["status"] == "PENDING_VERIFICATION"
    assert registered["id"] != to_global_id("User", user.id)


async def test_logout_all_refuses_the_current_access_token_and_every_refresh_token(client):
    await create_user(client)
    here, elsewhere = await login(client), await login(client)
    assert data(await graphql(client, "mutation { logoutAll }", headers=bearer(here))) == {
        "logoutAll": True
    }
    assert not await access_works(client, here)
    assert not await access_works(client, elsewhere)
    assert not await refresh_works(client, here["refreshToken"])
    assert not await refresh_works(client, elsewhere["refreshToken"])
    assert await login(client)  # the account itself is fine


async def test_change_password_with_a_wrong_current_password_names_current_password(client):
    await create_user(client)
    session = await login(client)
    response = await graphql(
        client,
        CHANGE_PASSWORD,
        {"current": "Wr0ng-password!", "new": NEW_PASSWORD},
        bearer(session),
    )
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert error["extensions"]["details"] == [
        {"field": "currentPassword", "message": "The current password is incorrect"}
    ]
    assert await login(client, password=PASSWORD)


async def test_change_password_reports_every_problem_at_once(client):
    await create_user(client)
    session = await login(client)
    response = await graphql(
        client, CHANGE_PASSWORD, {"current": "Wr0ng-password!", "new": "weak"}, bearer(session)
    )
    details = response.json()["errors"][0]["extensions"]["details"]
    assert [detail["field"] for detail in details] == ["currentPassword", "newPassword"]


async def test_change_password_refuses_the_same_password(client):
    await create_user(client)
    session = await login(client)
    response = await graphql(
        client, CHANGE_PASSWORD, {"current": PASSWORD, "new": PASSWORD}, bearer(session)
    )
    details = response.json()["errors"][0]["extensions"]["details"]
    assert details == [
        {"field": "newPassword", "message": "The new password must differ from the current one"}
    ]


async def test_change_password_revokes_other_sessions_but_keeps_this_one(client):
    await create_user(client)
    here, elsewhere = await login(client), await login(client)
    response = await graphql(
        client, CHANGE_PASSWORD, {"current": PASSWORD, "new": NEW_PASSWORD}, bearer(here)
    )
    assert data(response) == {"changePassword": True}
    assert not await refresh_works(client, elsewhere["refreshToken"])
    assert await refresh_works(client, here["refreshToken"])


async def test_change_password_stops_every_access_token_at_once(client):
    """Other sessions cannot keep working on their access tokens for 15 more minutes;
    this session refreshes once (its refresh token survives)."""
    await create_user(client)
    here, elsewhere = await login(client), await login(client)
    data(
        await graphql(
            client, CHANGE_PASSWORD, {"current": PASSWORD, "new": NEW_PASSWORD}, bearer(here)
        )
    )
    assert not await access_works(client, elsewhere)
    assert not await access_works(client, here)


async def test_change_password_keeps_a_session_that_was_refreshed_before(client):
    await create_user(client)
    session = await login(client)
    rotated = data(await refresh(client, session["refreshToken"]))["refreshToken"]
    data(
        await graphql(
            client, CHANGE_PASSWORD, {"current": PASSWORD, "new": NEW_PASSWORD}, bearer(rotated)
        )
    )
    assert await refresh_works(client, rotated["refreshToken"])


async def test_after_a_password_change_only_the_new_password_logs_in(client):
    await create_user(client)
    session = await login(client)
    data(
        await graphql(
            client, CHANGE_PASSWORD, {"current": PASSWORD, "new": NEW_PASSWORD}, bearer(session)
        )
    )
    old = await graphql(client, LOGIN, {"email": "ada@example.com", "password": PASSWORD})
    assert error_code(old) == "UNAUTHENTICATED"
    assert await login(client, password=NEW_PASSWORD)


# Argon2 parameter upgrades


async def test_login_rehashes_a_password_hashed_with_other_parameters(client):
    legacy = Argon2Hasher(time_cost=2, memory_cost=9216, parallelism=2, type=Type.ID)
    old_hash = legacy.hash(PASSWORD)
    user = await create_user(client, password_hash=old_hash)
    hasher = container(client).passwords
    assert hasher.needs_rehash(old_hash)
    await login(client)
    stored = (await User.get(id=user.id)).password_hash
    assert stored != old_hash
    assert stored.startswith("$argon2id$v=19$m=8192,t=1,p=1$")  # the test settings
    assert not hasher.needs_rehash(stored)
    assert await login(client)  # the new hash verifies the same password


async def test_a_failed_login_does_not_rehash(client):
    legacy = Argon2Hasher(time_cost=2, memory_cost=9216, parallelism=1, type=Type.ID)
    old_hash = legacy.hash(PASSWORD)
    user = await create_user(client, password_hash=old_hash)
    await graphql(client, LOGIN, {"email": "ada@example.com", "password": "Wr0ng-password!"})
    assert (await User.get(id=user.id)).password_hash == old_hash


async def test_login_keeps_a_hash_that_has_the_current_parameters(client):
    user = await create_user(client)
    await login(client)
    assert (await User.get(id=user.id)).password_hash == user.password_hash


# Audit rows


async def test_a_login_is_audited_with_the_user_as_actor(client):
    user = await create_user(client)
    await login(client)
    [row] = await AuditLog.filter(action=AuditAction.LOGIN)
    assert (row.actor_id, row.target_id, row.ip) == (user.id, None, CLIENT_IP)
    assert row.request_id


async def test_a_failed_login_is_audited_with_the_account_as_target(client):
    user = await create_user(client)
    await graphql(client, LOGIN, {"email": "ada@example.com", "password": "Wr0ng-password!"})
    [row] = await AuditLog.filter(action=AuditAction.LOGIN_FAILED)
    assert (row.actor_id, row.target_id, row.ip) == (None, user.id, CLIENT_IP)


async def test_a_failed_login_for_an_unknown_email_is_audited_without_target(client):
    await graphql(client, LOGIN, {"email": "nobody@example.com", "password": PASSWORD})
    [row] = await AuditLog.filter(action=AuditAction.LOGIN_FAILED)
    assert (row.actor_id, row.target_id) == (None, None)


async def test_a_password_change_is_audited_with_the_user_as_actor(client):
    user = await create_user(client)
    session = await login(client)
    data(
        await graphql(
            client, CHANGE_PASSWORD, {"current": PASSWORD, "new": NEW_PASSWORD}, bearer(session)
        )
    )
    [row] = await AuditLog.filter(action=AuditAction.PASSWORD_CHANGED)
    assert (row.actor_id, row.ip) == (user.id, CLIENT_IP)


async def test_audit_rows_never_hold_passwords_or_tokens(client):
    await create_user(client)
    session = await login(client)
    await graphql(client, LOGIN, {"email": "ada@example.com", "password": "Wr0ng-password!"})
    await graphql(
        client, CHANGE_PASSWORD, {"current": PASSWORD, "new": NEW_PASSWORD}, bearer(session)
    )
    rows = await AuditLog.all()
    assert {row.action for row in rows} == {
        AuditAction.LOGIN,
        AuditAction.LOGIN_FAILED,
        AuditAction.PASSWORD_CHANGED,
    }
    text = repr([(row.data, row.ip, row.request_id) for row in rows])
    for secret in [PASSWORD, NEW_PASSWORD, "Wr0ng-password!", session["refreshToken"]]:
        assert secret not in text


async def test_logout_is_written_to_the_audit_log(client):
    user = await create_user(client)
    session = await login(client)
    data(await graphql(client, LOGOUT, {"token": session["refreshToken"]}))
    [row] = await AuditLog.filter(action=AuditAction.LOGOUT)
    assert row.actor_id == user.id
    assert row.ip == "203.0.113.7"
