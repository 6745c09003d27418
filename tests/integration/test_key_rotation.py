"""Key rotation without logging anyone out (docs/RUNBOOK.md, "Rotate the JWT and refresh
secrets"). Each app below is one deploy step on the same database: before (the old key
signs), during (the new key signs, the old one is in *_PREVIOUS_SECRETS), after (the old key
retired). Access tokens signed by a previous key work until their expiry; new ones name the
new key in ``kid``; a retired key's tokens are refused with the usual 401 UNAUTHENTICATED.
Refresh and one-time tokens hashed with a previous key are found during the rotation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from models.auth import OneTimeToken, OneTimeTokenPurpose, RefreshToken
from models.user import Role, User, UserStatus
from server.container import Container
from services.tokens import hash_secret, issue_access_token, key_id, new_secret
from tests.conftest import AppFactory, data, data_of, error_of, graphql

OLD_JWT = "old-jwt-secret-" + "o" * 40
NEW_JWT = "new-jwt-secret-" + "n" * 40
OLD_REFRESH = "old-refresh-secret-" + "o" * 40
NEW_REFRESH = "new-refresh-secret-" + "n" * 40
PASSWORD = "Sup3r-secret!"
LOGIN = """
mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken refreshToken }
}
"""
REFRESH = """
mutation($token: String) { refreshToken(refreshToken: $token) { accessToken refreshToken } }
"""
VERIFY_EMAIL = "mutation($token: String!) { verifyEmail(token: $token) { id } }"
ME = "{ me { id } }"
CHALLENGE = 'Bearer error="invalid_token"'


@pytest.fixture
def before(client_factory: AppFactory, tmp_path: Path) -> httpx.AsyncClient:
    return client_factory(
        jwt_secret=OLD_JWT, refresh_token_secret=OLD_REFRESH, mail_outbox_dir=str(tmp_path)
    )


@pytest.fixture
def introduced(client_factory: AppFactory, tmp_path: Path) -> httpx.AsyncClient:
    """The runbook's first step: the new key accepted, the old one still signing."""
    return client_factory(
        jwt_secret=OLD_JWT,
        jwt_previous_secrets=[NEW_JWT],
        refresh_token_secret=OLD_REFRESH,
        refresh_token_previous_secrets=[NEW_REFRESH],
        mail_outbox_dir=str(tmp_path),
    )


@pytest.fixture
def during(client_factory: AppFactory, tmp_path: Path) -> httpx.AsyncClient:
    return client_factory(
        jwt_secret=NEW_JWT,
        jwt_previous_secrets=[OLD_JWT],
        refresh_token_secret=NEW_REFRESH,
        refresh_token_previous_secrets=[OLD_REFRESH],
        mail_outbox_dir=str(tmp_path),
    )


@pytest.fixture
def after(client_factory: AppFactory, tmp_path: Path) -> httpx.AsyncClient:
    return client_factory(
        jwt_secret=NEW_JWT, refresh_token_secret=NEW_REFRESH, mail_outbox_dir=str(tmp_path)
    )


def container(client: httpx.AsyncClient) -> Container:
    return client.container  # type: ignore[attr-defined,no-any-return]


async def create_user(client: httpx.AsyncClient, status: UserStatus = UserStatus.ACTIVE) -> User:
    return await User.create(
        name="Ada Lovelace",
        email="ada@example.com",
        password_hash=container(client).passwords.hash(PASSWORD),
        status=status,
        role=Role.USER,
    )


async def login(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await graphql(client, LOGIN, {"email": "ada@example.com", "password": PASSWORD})
    return data(response)["login"]  # type: ignore[no-any-return]


async def me(client: httpx.AsyncClient, access_token: str) -> httpx.Response:
    return await graphql(client, ME, headers={"Authorization": f"Bearer {access_token}"})


async def assert_refused(client: httpx.AsyncClient, access_token: str) -> None:
    response = await me(client, access_token)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == CHALLENGE
    assert error_of(response.json())["extensions"]["code"] == "UNAUTHENTICATED"


async def refresh(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    return (await graphql(client, REFRESH, {"token": token})).json()  # type: ignore[no-any-return]


async def test_an_access_token_signed_before_the_rotation_still_works_during_it(before, during):
    await create_user(before)
    old = (await login(before))["accessToken"]
    assert jwt.get_unverified_header(old)["kid"] == key_id(OLD_JWT)
    response = await me(during, old)
    assert response.status_code == 200
    assert data(response)["me"] is not None


async def test_new_access_tokens_carry_the_new_key_id_and_verify_with_the_new_key(during):
    await create_user(during)
    new = (await login(during))["accessToken"]
    assert jwt.get_unverified_header(new)["kid"] == key_id(NEW_JWT)
    assert key_id(NEW_JWT) != key_id(OLD_JWT)
    jwt.decode(new, NEW_JWT, algorithms=["HS256"], options={"verify_aud": False})
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(new, OLD_JWT, algorithms=["HS256"], options={"verify_aud": False})


async def test_a_replica_that_introduced_the_new_key_accepts_the_tokens_it_signs(
    introduced, during
):
    """Mid-rollout, replicas still on the first step accept what updated replicas issue."""
    await create_user(during)
    session = await login(during)
    assert (await me(introduced, session["accessToken"])).status_code == 200
    assert jwt.get_unverified_header((await login(introduced))["accessToken"])["kid"] == key_id(
        OLD_JWT
    )
    assert "errors" not in await refresh(introduced, session["refreshToken"])


async def test_a_token_signed_by_a_previous_key_is_refused_once_it_expires(before, during):
    user = await create_user(before)
    issued = datetime.now(UTC) - timedelta(hours=1)
    settings = container(before).settings
    expired = issue_access_token(settings, user, session_id=uuid.uuid4(), now=issued)
    await assert_refused(during, expired)


async def test_a_token_signed_by_a_retired_key_is_refused(before, after):
    await create_user(before)
    old = (await login(before))["accessToken"]
    await assert_refused(after, old)


async def test_a_token_naming_an_unknown_key_is_refused_even_when_a_known_key_signed_it(
    before, during
):
    await create_user(before)
    old = (await login(before))["accessToken"]
    claims = jwt.decode(old, OLD_JWT, algorithms=["HS256"], options={"verify_aud": False})
    renamed = jwt.encode(claims, OLD_JWT, algorithm="HS256", headers={"kid": "0123456789abcdef"})
    await assert_refused(during, renamed)


async def test_a_token_without_a_key_id_is_checked_against_every_accepted_key(before, during):
    """Tokens issued before key ids existed keep working through the deploy that adds them."""
    await create_user(before)
    old = (await login(before))["accessToken"]
    claims = jwt.decode(old, OLD_JWT, algorithms=["HS256"], options={"verify_aud": False})
    legacy = jwt.encode(claims, OLD_JWT, algorithm="HS256")
    assert "kid" not in jwt.get_unverified_header(legacy)
    assert (await me(during, legacy)).status_code == 200
    await assert_refused(during, jwt.encode(claims, "x" * 48, algorithm="HS256"))


async def test_a_refresh_token_issued_before_the_rotation_refreshes_during_it(before, during):
    await create_user(before)
    old = (await login(before))["refreshToken"]
    body = await refresh(during, old)
    pair = data_of(body)["refreshToken"]
    assert jwt.get_unverified_header(pair["accessToken"])["kid"] == key_id(NEW_JWT)
    new_hash = hash_secret(container(during).settings, pair["refreshToken"])
    assert await RefreshToken.exists(token_hash=new_hash, rotated_at=None)


async def test_a_refresh_token_rotated_during_the_rotation_keeps_working_after_it(
    before, during, after
):
    await create_user(before)
    old = (await login(before))["refreshToken"]
    rotated = data_of(await refresh(during, old))["refreshToken"]["refreshToken"]
    assert "errors" not in await refresh(after, rotated)


async def test_a_refresh_token_hashed_with_a_retired_key_is_refused(before, after):
    await create_user(before)
    old = (await login(before))["refreshToken"]
    body = await refresh(after, old)
    assert error_of(body)["extensions"]["code"] == "UNAUTHENTICATED"


async def test_reusing_a_refresh_token_across_the_rotation_is_still_detected(before, during):
    await create_user(before)
    old = (await login(before))["refreshToken"]
    data_of(await refresh(during, old))
    assert error_of(await refresh(during, old))["extensions"]["code"] == "UNAUTHENTICATED"


async def test_an_email_link_sent_before_the_rotation_still_verifies_during_it(before, during):
    user = await create_user(before, UserStatus.PENDING_VERIFICATION)
    secret = new_secret()
    await OneTimeToken.create(
        user=user,
        purpose=OneTimeTokenPurpose.VERIFY_EMAIL,
        token_hash=hash_secret(container(before).settings, secret),
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    response = await graphql(during, VERIFY_EMAIL, {"token": secret})
    assert data(response)["verifyEmail"]["id"]
