"""While the database is down every answer is SERVICE_UNAVAILABLE in the error contract
(HTTP 503 + Retry-After when nothing could be answered), and everything works again once
it is back, without a restart (tests/outage.py; a real PostgreSQL restarted under load:
tests/e2e/test_database_outage.py)."""

from __future__ import annotations

import logging

import httpx
import pytest

from tests import factories
from tests.conftest import error_of, graphql
from tests.outage import database_down

POSTS = "{ posts(first: 1) { nodes { id } } }"
LOGIN = 'mutation { login(email: "ada@example.com", password: "Sup3r-secret!") { accessToken } }'


def assert_unavailable(response: httpx.Response) -> dict[str, object]:
    """A 503 in the error contract with Retry-After; its one error."""
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    error = error_of(response.json())
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert error["extensions"]["retryAfter"] == 5
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    return error


async def test_a_request_with_a_token_answers_503_when_the_database_cannot_check_it(client):
    headers = factories.bearer(client, await factories.create_user())

    async with database_down():
        response = await graphql(client, "{ me { id } }", headers=headers)

    assert_unavailable(response)
    assert "data" not in response.json()
    assert response.headers["content-type"] == "application/graphql-response+json"


@pytest.mark.parametrize(("document", "field"), [(POSTS, "posts"), (LOGIN, "login")])
async def test_an_operation_left_without_data_by_the_outage_answers_503(client, document, field):
    async with database_down():
        response = await graphql(client, document)

    error = assert_unavailable(response)
    assert response.json()["data"] is None
    assert error["path"] == [field]


async def test_a_nullable_field_failing_in_an_outage_is_service_unavailable_with_data(client):
    """With ``data`` in the answer the GraphQL-over-HTTP spec requires a 2xx status."""
    user = await factories.create_user()

    async with database_down():
        response = await graphql(
            client, f'{{ user(id: "{factories.gid("User", user.id)}") {{ name }} }}'
        )

    assert response.status_code == 200
    assert response.json()["data"] == {"user": None}
    assert error_of(response.json())["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert "retry-after" not in response.headers


async def test_legacy_json_clients_get_the_503_too(client):
    headers = {
        "Accept": "application/json",
        **factories.bearer(client, await factories.create_user()),
    }

    async with database_down():
        response = await graphql(client, "{ me { id } }", headers=headers)

    assert_unavailable(response)
    assert response.headers["content-type"] == "application/json"


async def test_an_outage_is_logged_as_one_warning_not_as_an_unexpected_error(client, caplog):
    with caplog.at_level(logging.WARNING):
        async with database_down():
            await graphql(client, POSTS)

    outage = [record for record in caplog.records if record.name == "agora.database"]
    assert [record.levelno for record in outage] == [logging.WARNING]
    assert not outage[0].exc_info
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


async def test_requests_succeed_again_once_the_database_is_back(client):
    headers = factories.bearer(client, user := await factories.create_user())
    async with database_down():
        assert (await graphql(client, "{ me { id } }", headers=headers)).status_code == 503

    response = await graphql(client, "{ me { id } }", headers=headers)

    assert response.status_code == 200
    assert response.json()["data"] == {"me": {"id": factories.gid("User", user.id)}}


async def test_readiness_is_503_during_the_outage_and_200_after_it(client):
    async with database_down():
        during = await client.get("/health/ready")
    after = await client.get("/health/ready")

    assert during.status_code == 503
    assert during.json()["checks"]["database"] == "unavailable"
    assert after.status_code == 200


async def test_each_operation_of_a_batch_carries_service_unavailable(client):
    async with database_down():
        response = await client.post("/graphql", json=[{"query": POSTS}, {"query": LOGIN}])

    assert response.status_code == 200  # a batch answers 200, each result its own errors
    codes = [error_of(result)["extensions"]["code"] for result in response.json()]
    assert codes == ["SERVICE_UNAVAILABLE", "SERVICE_UNAVAILABLE"]


async def test_an_outage_under_load_logs_its_first_warning_and_holds_back_the_rest(client, caplog):
    with caplog.at_level(logging.WARNING):
        async with database_down():
            for _ in range(5):
                await graphql(client, POSTS)

    outage = [record for record in caplog.records if record.name == "agora.database"]
    assert len(outage) == 1
