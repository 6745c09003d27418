"""The settings and keys of a rotation: JWT_PREVIOUS_SECRETS and
REFRESH_TOKEN_PREVIOUS_SECRETS are comma-separated, checked like the secrets they follow,
never the current key, never shared between the two kinds; key ids are stable and distinct;
file URLs signed with a previous refresh key still verify. The HTTP behaviour is in
tests/integration/test_key_rotation.py."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest

from core.settings import MIN_SECRET_BYTES, ConfigurationError, Settings, load_settings
from services.storage import build_storage
from services.storage.local import LocalStorage, SignedDownload
from services.tokens import InvalidToken, decode_access_token, jwt_keyring, key_id

CURRENT_JWT = "j" * MIN_SECRET_BYTES
OLD_JWT = "o" * MIN_SECRET_BYTES
CURRENT_REFRESH = "r" * MIN_SECRET_BYTES
OLD_REFRESH = "p" * MIN_SECRET_BYTES
SETTING_NAMES = frozenset(Settings.model_fields)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.lower() in SETTING_NAMES:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def production(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "_env_file": None,
        "app_env": "production",
        "database_url": "postgres://agora:secret@db.internal:5432/agora",
        "jwt_secret": CURRENT_JWT,
        "refresh_token_secret": CURRENT_REFRESH,
        "metrics_token": "m" * MIN_SECRET_BYTES,
        "cors_allowed_origins": ["https://app.example.com"],
        "smtp_host": "smtp.example.com",
    }
    values.update(overrides)
    return values


def refusal(**overrides: Any) -> list[str]:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(**overrides)
    return caught.value.problems


def test_previous_secrets_are_read_as_a_comma_separated_list(monkeypatch) -> None:
    monkeypatch.setenv("JWT_PREVIOUS_SECRETS", f" {OLD_JWT} , {'q' * 40} ")
    monkeypatch.setenv("REFRESH_TOKEN_PREVIOUS_SECRETS", "")

    settings = load_settings(**production())

    assert settings.jwt_previous_secrets == [OLD_JWT, "q" * 40]
    assert settings.refresh_token_previous_secrets == []


def test_no_previous_secrets_by_default() -> None:
    settings = load_settings(**production())

    assert settings.jwt_previous_secrets == []
    assert settings.refresh_token_previous_secrets == []


@pytest.mark.parametrize(
    ("field", "current", "name"),
    [
        ("jwt_previous_secrets", CURRENT_JWT, "JWT"),
        ("refresh_token_previous_secrets", CURRENT_REFRESH, "REFRESH_TOKEN"),
    ],
)
def test_the_current_secret_among_the_previous_ones_is_refused(field, current, name) -> None:
    problems = refusal(**production(**{field: [OLD_JWT + "x", current]}))

    assert f"{name}_PREVIOUS_SECRETS must not contain {name}_SECRET" in problems[0]


def test_a_previous_secret_listed_twice_is_refused() -> None:
    problems = refusal(**production(jwt_previous_secrets=[OLD_JWT, OLD_JWT]))

    assert problems == ["JWT_PREVIOUS_SECRETS lists one secret twice"]


def test_a_weak_previous_secret_is_refused_in_production() -> None:
    problems = refusal(**production(refresh_token_previous_secrets=["short"]))

    assert problems == [
        f"REFRESH_TOKEN_PREVIOUS_SECRETS: each secret must be at least {MIN_SECRET_BYTES} bytes"
    ]


def test_a_weak_previous_secret_is_allowed_outside_production() -> None:
    settings = load_settings(_env_file=None, app_env="test", jwt_previous_secrets=["short"])

    assert settings.jwt_previous_secrets == ["short"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"jwt_previous_secrets": [CURRENT_REFRESH]},
        {"refresh_token_previous_secrets": [CURRENT_JWT]},
        {"jwt_previous_secrets": [OLD_JWT], "refresh_token_previous_secrets": [OLD_JWT]},
    ],
)
def test_a_secret_shared_by_the_two_kinds_of_key_is_refused(overrides) -> None:
    problems = refusal(**production(**overrides))

    assert any("must share no secret" in problem for problem in problems), problems


def test_key_ids_are_stable_distinct_and_do_not_contain_the_secret() -> None:
    assert key_id(CURRENT_JWT) == key_id(CURRENT_JWT)
    assert key_id(CURRENT_JWT) != key_id(OLD_JWT)
    assert len(key_id(CURRENT_JWT)) == 16
    assert CURRENT_JWT[:8] not in key_id(CURRENT_JWT)


def test_the_keyring_signs_with_the_current_key_and_verifies_with_every_one() -> None:
    keys = jwt_keyring(load_settings(**production(jwt_previous_secrets=[OLD_JWT])))

    assert keys.signing_kid == key_id(CURRENT_JWT)
    assert keys.signing_secret == CURRENT_JWT
    assert keys.verifying == {key_id(CURRENT_JWT): CURRENT_JWT, key_id(OLD_JWT): OLD_JWT}


def local_storage(tmp_path: Path, **overrides: Any) -> LocalStorage:
    settings = load_settings(
        _env_file=None, app_env="test", storage_local_dir=str(tmp_path), **overrides
    )
    storage = build_storage(settings)
    assert isinstance(storage, LocalStorage)
    return storage


def test_a_file_url_signed_before_a_refresh_key_rotation_verifies_during_it(tmp_path) -> None:
    download = SignedDownload("k" * 43, 2_000_000_000, "a.png", "image/png")
    signature = local_storage(tmp_path, refresh_token_secret=OLD_REFRESH).signature(download)

    during = local_storage(
        tmp_path,
        refresh_token_secret=CURRENT_REFRESH,
        refresh_token_previous_secrets=[OLD_REFRESH],
    )
    after = local_storage(tmp_path, refresh_token_secret=CURRENT_REFRESH)

    assert during.verify(download, signature, now=0)
    assert not after.verify(download, signature, now=0)
    assert during.signature(download) == after.signature(download)  # signed with the new key


@pytest.mark.parametrize(
    "header",
    [b'{"alg":"HS256","kid":5}', b'{"alg":"HS256","kid":["a"]}', b"[1]", b"not json", b"\xff"],
)
def test_a_token_whose_header_is_malformed_or_names_no_usable_key_is_refused(header) -> None:
    settings = load_settings(_env_file=None, app_env="test", jwt_secret=CURRENT_JWT)
    body = base64.urlsafe_b64encode(b'{"sub":"1"}').rstrip(b"=").decode()
    token = base64.urlsafe_b64encode(header).rstrip(b"=").decode() + f".{body}.c2ln"

    with pytest.raises(InvalidToken):
        decode_access_token(settings, token)
