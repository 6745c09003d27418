"""services.tokens: access JWTs are HS256 only, carry every required claim, and anything
else (another key, another algorithm, another audience or issuer, expired, incomplete)
is InvalidToken — an HTTP 401 with a Bearer challenge."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from models.user import Role, User
from services.errors import ErrorCode, Unauthenticated
from services.tokens import (
    ALGORITHM,
    REQUIRED_CLAIMS,
    InvalidToken,
    decode_access_token,
    hash_secret,
    issue_access_token,
    new_secret,
)
from tests.conftest import make_settings

SETTINGS = make_settings()
SECRET = SETTINGS.jwt_signing_secret
SESSION = uuid.UUID("00000000-0000-4000-8000-000000000001")


def user(**overrides: Any) -> User:
    values: dict[str, Any] = {
        "id": 7,
        "name": "Ada",
        "email": "ada@example.com",
        "password_hash": "x",
        "role": Role.MODERATOR,
        "token_version": 3,
    }
    values.update(overrides)
    return User(**values)


def claims(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "iss": SETTINGS.jwt_issuer,
        "aud": SETTINGS.jwt_audience,
        "sub": "7",
        "iat": now,
        "exp": now + timedelta(minutes=15),
        "jti": uuid.uuid4().hex,
        "role": "MODERATOR",
        "ver": 3,
        "sid": str(SESSION),
    }
    values.update(overrides)
    return values


def signed(payload: dict[str, Any], key: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, key, algorithm=algorithm)


def b64url(data: dict[str, Any]) -> str:
    raw = json.dumps(data, default=lambda value: int(value.timestamp())).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        decode_access_token(SETTINGS, token)


def test_an_issued_token_decodes_to_its_user_role_version_and_session():
    before = datetime.now(UTC).replace(microsecond=0)
    token = issue_access_token(SETTINGS, user(), SESSION)
    decoded = decode_access_token(SETTINGS, token)
    assert decoded.user_id == 7
    assert decoded.role is Role.MODERATOR
    assert decoded.token_version == 3
    assert decoded.session_id == SESSION
    lifetime = timedelta(seconds=SETTINGS.access_token_ttl_seconds)
    assert before + lifetime <= decoded.expires_at <= datetime.now(UTC) + lifetime


def test_an_issued_token_is_hs256_with_every_required_claim_and_no_secrets():
    token = issue_access_token(SETTINGS, user(), SESSION)
    assert jwt.get_unverified_header(token)["alg"] == ALGORITHM == "HS256"
    payload = jwt.decode(token, options={"verify_signature": False})
    assert set(payload) == set(REQUIRED_CLAIMS)
    assert payload["iss"] == SETTINGS.jwt_issuer
    assert payload["aud"] == SETTINGS.jwt_audience
    assert payload["sub"] == "7"
    assert payload["exp"] - payload["iat"] == SETTINGS.access_token_ttl_seconds


def test_every_issued_token_has_its_own_jti():
    first = decode_access_token(SETTINGS, issue_access_token(SETTINGS, user(), SESSION))
    second = decode_access_token(SETTINGS, issue_access_token(SETTINGS, user(), SESSION))
    assert first.jti != second.jti


def test_a_token_signed_with_another_secret_is_refused():
    refused(signed(claims(), key="someone-elses-secret-that-is-long-enough!!"))


def test_a_token_signed_with_the_refresh_secret_is_refused():
    refused(signed(claims(), key=SETTINGS.refresh_signing_secret))


def test_a_tampered_payload_is_refused():
    header, _, signature = signed(claims()).split(".")
    forged_payload = b64url(claims(role="ADMIN"))
    refused(f"{header}.{forged_payload}.{signature}")


def test_an_unsigned_alg_none_token_is_refused():
    header = b64url({"alg": "none", "typ": "JWT"})
    refused(f"{header}.{b64url(claims())}.")


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_an_hs512_token_with_the_right_secret_is_refused():
    refused(signed(claims(), algorithm="HS512"))


def test_a_token_for_another_audience_is_refused():
    refused(signed(claims(aud="another-api")))


def test_a_token_from_another_issuer_is_refused():
    refused(signed(claims(iss="someone-else")))


def test_an_expired_token_is_refused():
    past = datetime.now(UTC) - timedelta(minutes=20)
    refused(signed(claims(iat=past, exp=past + timedelta(minutes=15))))


def test_a_few_seconds_of_clock_skew_are_tolerated():
    just_expired = datetime.now(UTC) - timedelta(seconds=2)
    decoded = decode_access_token(SETTINGS, signed(claims(exp=just_expired)))
    assert decoded.user_id == 7


@pytest.mark.parametrize("claim", REQUIRED_CLAIMS)
def test_a_token_missing_a_required_claim_is_refused(claim: str):
    payload = claims()
    del payload[claim]
    refused(signed(payload))


@pytest.mark.parametrize(
    "overrides",
    [
        {"sub": "not-a-number"},
        {"sub": 7},
        {"role": "SUPERUSER"},
        {"sid": "not-a-uuid"},
        {"ver": "three"},
    ],
    ids=["sub-text", "sub-int", "role-unknown", "sid-not-uuid", "ver-not-int"],
)
def test_a_token_with_a_malformed_claim_is_refused(overrides: dict[str, Any]):
    refused(signed(claims(**overrides)))


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "a.b", "Bearer x.y.z"])
def test_a_value_that_is_not_a_jwt_is_refused(token: str):
    refused(token)


def test_invalid_token_is_a_401_with_a_bearer_challenge():
    error = InvalidToken()
    assert isinstance(error, Unauthenticated)
    assert error.code is ErrorCode.UNAUTHENTICATED
    assert error.http_status == 401
    assert error.headers == {"WWW-Authenticate": 'Bearer error="invalid_token"'}


def test_stored_secrets_are_keyed_hashes_not_the_secret():
    secret = new_secret()
    stored = hash_secret(SETTINGS, secret)
    assert secret not in stored
    assert len(stored) == 64
    assert stored == hash_secret(SETTINGS, secret)
    other_key = make_settings(refresh_token_secret="another-refresh-secret-" * 2)
    assert hash_secret(other_key, secret) != stored


def test_new_secrets_are_random_and_long():
    secrets = {new_secret() for _ in range(50)}
    assert len(secrets) == 50
    assert all(len(secret) >= 43 for secret in secrets)  # 32 bytes, base64url
