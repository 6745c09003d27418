"""A database outage seen through a real uvicorn: answers in the error contract on a
keep-alive connection that stays open, and websockets told to try again later
(tests/outage.py; a real PostgreSQL restarted under load: test_postgres_restart.py)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from models.user import User
from services.tokens import issue_access_token
from tests.e2e.conftest import LiveServer
from tests.e2e.wsclient import LEGACY_WS, TRANSPORT_WS, connect
from tests.factories import create_user, gid
from tests.outage import database_down

ME = "{ me { id } }"


def token_for(server: LiveServer, user: User) -> str:
    return issue_access_token(server.container.settings, user, uuid.uuid4())


def local_port(response: httpx.Response) -> int:
    """The client-side port of the TCP connection that carried ``response``."""
    return int(response.extensions["network_stream"].get_extra_info("client_addr")[1])


async def test_answers_during_an_outage_are_json_on_the_same_keep_alive_connection(live_server):
    user = await create_user()
    headers = {"Authorization": f"Bearer {token_for(live_server, user)}"}
    limits = httpx.Limits(max_connections=1)
    ports: set[int] = set()
    async with httpx.AsyncClient(base_url=live_server.base_url, limits=limits) as http:
        async with database_down():
            for payload, auth in [
                ({"query": ME}, headers),
                ({"query": "{ posts(first: 1) { totalCount } }"}, {}),
                ({"query": ME}, headers),
            ]:
                response = await http.post("/graphql", json=payload, headers=auth)
                assert response.status_code == 503, response.text
                assert response.headers["content-type"] == "application/graphql-response+json"
                assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
                assert response.headers.get("connection") != "close"
                ports.add(local_port(response))
        after = await http.post("/graphql", json={"query": ME}, headers=headers)
        ports.add(local_port(after))

    assert after.json()["data"] == {"me": {"id": gid("User", user.id)}}
    assert len(ports) == 1  # one TCP connection served every answer


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_connection_init_with_a_token_during_an_outage_closes_with_try_again_later(
    live_server, protocol
):
    token = token_for(live_server, await create_user())
    async with connect(live_server.ws_url, protocol) as client, database_down():
        await client.send(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        )
        code = await client.closed_with()

    assert code == 1013


async def test_an_operation_during_an_outage_is_refused_with_service_unavailable(live_server):
    user = await create_user()
    async with connect(live_server.ws_url) as client:
        assert (await client.init(token_for(live_server, user)))["type"] == "connection_ack"

        async with database_down():
            await client.subscribe("during", ME)
            refused = await client.receive()
        await client.subscribe("after", ME)
        answered = await client.receive()

    assert refused["type"] == "error"
    assert refused["id"] == "during"
    assert refused["payload"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert answered["type"] == "next"
    assert answered["payload"]["data"] == {"me": {"id": gid("User", user.id)}}
