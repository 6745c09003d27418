"""One error format: every error has a code and the request id; unexpected exceptions are
logged with their stack and masked in production; bad IDs are the client's fault, unknown
objects are simply null."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import httpx
import pytest

from core.logging import JsonFormatter
from models.user import User
from schema.errors import MASKED_MESSAGE
from tests.conftest import DATABASE_URL, AppFactory, graphql

NODE_QUERY = "query Lookup($id: ID!) { node(id: $id) { id } }"
USER_1 = "VXNlcjox"  # base64("User:1")


def global_id(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def production_client(client_factory: AppFactory) -> httpx.AsyncClient:
    return client_factory(
        app_env="production",
        database_url=DATABASE_URL,
        jwt_secret="j" * 40,
        refresh_token_secret="r" * 40,
        metrics_token="m" * 40,
    )


def client_for(client_factory: AppFactory, app_env: str) -> httpx.AsyncClient:
    if app_env == "production":
        return production_client(client_factory)
    return client_factory(app_env=app_env)


@pytest.fixture
def broken_user_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any user lookup fails the way a bug deep in a data path would."""

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(User, "filter", explode)
    # The users' cache misses run hand-written SQL (models/rows.py) on the model's connection.
    monkeypatch.setattr(User, "_choose_db", explode)


def graphql_error_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.name == "agora.graphql" and record.levelno >= logging.ERROR
    ]


@pytest.mark.usefixtures("broken_user_table")
async def test_an_unexpected_error_is_masked_in_production(client_factory: AppFactory) -> None:
    client = production_client(client_factory)

    response = await graphql(client, NODE_QUERY, {"id": USER_1}, operation_name="Lookup")

    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"node": None}
    [error] = body["errors"]
    assert error["message"] == MASKED_MESSAGE == "An unexpected error occurred"
    assert error["extensions"] == {
        "code": "INTERNAL_SERVER_ERROR",
        "requestId": response.headers["x-request-id"],
    }
    assert error["path"] == ["node"]
    assert "boom" not in response.text
    assert "RuntimeError" not in response.text


@pytest.mark.usefixtures("broken_user_table")
@pytest.mark.parametrize("app_env", ["development", "test"])
async def test_an_unexpected_error_is_shown_outside_production(
    client_factory: AppFactory, app_env: str
) -> None:
    client = client_factory(app_env=app_env)

    response = await graphql(client, NODE_QUERY, {"id": USER_1})

    [error] = response.json()["errors"]
    assert error["message"] == "boom"
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]


@pytest.mark.usefixtures("broken_user_table")
@pytest.mark.parametrize("app_env", ["production", "development"])
async def test_an_unexpected_error_is_logged_with_its_stack_and_request_id(
    client_factory: AppFactory, caplog: pytest.LogCaptureFixture, app_env: str
) -> None:
    client = client_for(client_factory, app_env)

    response = await graphql(client, NODE_QUERY, {"id": USER_1}, operation_name="Lookup")

    [record] = graphql_error_records(caplog)
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["requestId"] == response.headers["x-request-id"]
    assert entry["operationName"] == "Lookup"
    assert "RuntimeError: boom" in entry["stack"]
    assert "load_users" in entry["stack"], "the stack reaches the failing frame"


@pytest.mark.parametrize("app_env", ["production", "development"])
async def test_a_malformed_global_id_is_bad_user_input_and_not_masked(
    client_factory: AppFactory, caplog: pytest.LogCaptureFixture, app_env: str
) -> None:
    client = client_for(client_factory, app_env)

    response = await graphql(client, NODE_QUERY, {"id": "not a global id"})

    body = response.json()
    assert body["data"] == {"node": None}
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == "'not a global id' is not a valid ID"
    assert graphql_error_records(caplog) == [], "client mistakes are not logged as failures"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("User:99999999999999999999", id="primary-key-beyond-bigint"),
        pytest.param("User:123456", id="user-that-does-not-exist"),
        pytest.param("Spaceship:1", id="unknown-type-name"),
    ],
)
async def test_a_well_formed_id_of_nothing_is_null_without_an_error(
    client: httpx.AsyncClient, text: str
) -> None:
    response = await graphql(client, NODE_QUERY, {"id": global_id(text)})

    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"node": None}
    assert "errors" not in body


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        pytest.param("query Q($v: Int) { __typename }", {}, id="variable-never-used"),
        pytest.param("{ posts(first: $n) { nodes { id } } }", {}, id="variable-not-defined"),
    ],
)
async def test_a_document_error_about_a_variable_is_a_validation_failure(
    client: httpx.AsyncClient, document: str, variables: dict[str, Any]
) -> None:
    response = await graphql(client, document, variables)

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_a_bad_variable_value_is_bad_user_input(client: httpx.AsyncClient) -> None:
    response = await graphql(
        client, "query Q($n: Int) { posts(first: $n) { nodes { id } } }", {"n": "many"}
    )

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith("Variable '$n' has invalid value")


async def test_a_long_malformed_id_is_not_echoed_in_full(client: httpx.AsyncClient) -> None:
    response = await graphql(client, NODE_QUERY, {"id": "x" * 5000})

    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert len(error["message"]) < 200
    assert error["message"].endswith("…' (5000 characters) is not a valid ID")
