"""Bearer tokens over HTTP: a present but unusable token is an HTTP 401 with
`WWW-Authenticate: Bearer error="invalid_token"` and code UNAUTHENTICATED, no data — never
an anonymous request, even for `{ __typename }`. A valid token identifies its user."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from models.user import Role, User, UserStatus
from server.container import Container
from tests.conftest import data, graphql, make_settings

PASSWORD = "Sup3r-secret!"
SETTINGS = make_settings()
TYPENAME = "{ __typename }"
ME = "{ me { id name } }"
LOGIN = """
mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken user { id } }
}
"""
CHALLENGE = 'Bearer error="invalid_token"'


def container(client: httpx.AsyncClient) -> Container:
    return client.container  # type: ignore[attr-defined,no-any-return]


async def create_user(client: httpx.AsyncClient, email: str = "ada@example.com") -> User:
    return await User.create(
        name="Ada Lovelace",
        email=email,
        password_hash=container(client).passwords.hash(PASSWORD),
        status=UserStatus.ACTIVE,
        role=Role.USER,
    )


async def login(client: httpx.AsyncClient, email: str = "ada@example.com") -> dict[str, Any]:
    response = await graphql(client, LOGIN, {"email": email, "password": PASSWORD})
    return data(response)["login"]  # type: ignore[no-any-return]


def claims(user: User, **overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "iss": SETTINGS.jwt_issuer,
        "aud": SETTINGS.jwt_audience,
        "sub": str(user.id),
        "iat": now,
        "exp": now + timedelta(minutes=15),
        "jti": uuid.uuid4().hex,
        "role": user.role.value,
        "ver": user.token_version,
        "sid": str(uuid.uuid4()),
    }
    values.update(overrides)
    return values


def signed(payload: dict[str, Any], key: str | None = None, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, key or SETTINGS.jwt_signing_secret, algorithm=algorithm)


def b64url(value: dict[str, Any]) -> str:
    raw = json.dumps(value, default=lambda moment: int(moment.timestamp())).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def assert_refused(
    client: httpx.AsyncClient, authorization: str, query: str = TYPENAME
) -> None:
    response = await graphql(client, query, headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == CHALLENGE
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["extensions"]["requestId"]


# A valid token


async def test_a_valid_token_identifies_its_user(client):
    user = await create_user(client)
    session = await login(client)
    response = await graphql(
        client, ME, headers={"Authorization": f"Bearer {session['accessToken']}"}
    )
    assert response.status_code == 200
    assert data(response)["me"] == {"id": session["user"]["id"], "name": user.name}


async def test_a_hand_made_token_with_the_right_secret_and_claims_is_accepted(client):
    user = await create_user(client)
    response = await graphql(
        client, ME, headers={"Authorization": f"Bearer {signed(claims(user))}"}
    )
    assert data(response)["me"]["name"] == "Ada Lovelace"


async def test_the_bearer_scheme_is_case_insensitive(client):
    await create_user(client)
    session = await login(client)
    response = await graphql(
        client, ME, headers={"Authorization": f"bearer {session['accessToken']}"}
    )
    assert data(response)["me"] is not None


async def test_without_an_authorization_header_the_caller_is_anonymous(client):
    response = await graphql(client, ME)
    assert response.status_code == 200
    assert data(response) == {"me": None}


# Bad tokens: 401, never anonymous


async def test_a_forged_signature_is_refused(client):
    user = await create_user(client)
    token = signed(claims(user), key="an-attackers-guess-at-the-secret-0123456789")
    await assert_refused(client, f"Bearer {token}")


async def test_a_token_with_a_tampered_payload_is_refused(client):
    user = await create_user(client)
    header, _, signature = signed(claims(user)).split(".")
    payload = b64url(claims(user, role="ADMIN"))
    await assert_refused(client, f"Bearer {header}.{payload}.{signature}")


async def test_an_alg_none_token_is_refused(client):
    user = await create_user(client)
    token = f"{b64url({'alg': 'none', 'typ': 'JWT'})}.{b64url(claims(user))}."
    await assert_refused(client, f"Bearer {token}")


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
async def test_an_hs512_token_signed_with_the_right_secret_is_refused(client):
    user = await create_user(client)
    await assert_refused(client, f"Bearer {signed(claims(user), algorithm='HS512')}")


async def test_a_token_for_another_audience_is_refused(client):
    user = await create_user(client)
    await assert_refused(client, f"Bearer {signed(claims(user, aud='another-api'))}")


async def test_a_token_from_another_issuer_is_refused(client):
    user = await create_user(client)
    await assert_refused(client, f"Bearer {signed(claims(user, iss='not-agora'))}")


async def test_an_expired_token_is_refused(client):
    user = await create_user(client)
    issued = datetime.now(UTC) - timedelta(minutes=30)
    token = signed(claims(user, iat=issued, exp=issued + timedelta(minutes=15)))
    await assert_refused(client, f"Bearer {token}")


# Every required claim is checked in tests/unit/test_access_tokens.py.
@pytest.mark.parametrize("missing", ["exp", "ver", "sid"])
async def test_a_token_missing_a_required_claim_is_refused(client, missing):
    user = await create_user(client)
    payload = claims(user)
    del payload[missing]
    await assert_refused(client, f"Bearer {signed(payload)}")


async def test_a_token_of_an_unknown_user_is_refused(client):
    user = await create_user(client)
    await assert_refused(client, f"Bearer {signed(claims(user, sub=str(user.id + 1000)))}")


async def test_a_token_of_an_older_token_version_is_refused(client):
    user = await create_user(client)
    await User.filter(id=user.id).update(token_version=user.token_version + 1)
    await assert_refused(client, f"Bearer {signed(claims(user))}")


@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer ", "Basic x", "Token abc", ""],
    ids=["bearer-alone", "bearer-space", "basic-x", "other-scheme", "empty"],
)
async def test_a_malformed_authorization_header_is_refused(client, authorization):
    await assert_refused(client, authorization)


async def test_a_bearer_value_that_is_not_a_jwt_is_refused(client):
    await assert_refused(client, "Bearer not-a-jwt")


async def test_a_bad_token_is_refused_on_a_field_that_allows_anonymous_callers(client):
    user = await create_user(client)
    token = signed(claims(user), key="an-attackers-guess-at-the-secret-0123456789")
    await assert_refused(client, f"Bearer {token}", query=ME)


async def test_a_bad_token_is_refused_on_a_public_mutation(client):
    await create_user(client)
    response = await graphql(
        client,
        'mutation { requestPasswordReset(email: "ada@example.com") }',
        headers={"Authorization": "Bearer not-a-jwt"},
    )
    assert response.status_code == 401
    assert "data" not in response.json()


async def test_a_bad_token_is_a_401_for_legacy_json_clients_too(client):
    response = await client.post(
        "/graphql",
        json={"query": TYPENAME},
        headers={"Authorization": "Bearer not-a-jwt", "Accept": "application/json"},
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == CHALLENGE
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_bad_token_is_a_401_over_get_too(client):
    response = await client.get(
        "/graphql",
        params={"query": TYPENAME},
        headers={
            "Authorization": "Bearer not-a-jwt",
            "Accept": "application/graphql-response+json",
        },
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == CHALLENGE
