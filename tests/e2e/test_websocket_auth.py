"""Websocket authentication at connection_init, against a real uvicorn."""

from __future__ import annotations

import json

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin, Subprotocol

from models.user import Role, User, UserStatus

PASSWORD = "Sup3r-secret!"
PROTOCOL = Subprotocol("graphql-transport-ws")


async def access_token(server) -> str:
    await User.create(
        name="Ada",
        email="ada@example.com",
        password_hash=server.container.passwords.hash(PASSWORD),
        role=Role.USER,
        status=UserStatus.ACTIVE,
    )
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        response = await client.post(
            "/graphql",
            json={
                "query": 'mutation($p: String!) { login(email: "ada@example.com", password: $p)'
                " { accessToken } }",
                "variables": {"p": PASSWORD},
            },
        )
    return str(response.json()["data"]["login"]["accessToken"])


async def test_valid_token_in_connection_init_is_acknowledged(live_server):
    token = await access_token(live_server)
    async with websockets.connect(live_server.ws_url, subprotocols=[PROTOCOL]) as socket:
        await socket.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        assert json.loads(await socket.recv())["type"] == "connection_ack"


async def test_invalid_token_in_connection_init_closes_with_4403(live_server):
    async with websockets.connect(live_server.ws_url, subprotocols=[PROTOCOL]) as socket:
        await socket.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": "Bearer forged"}})
        )
        with pytest.raises(ConnectionClosed) as closed:
            await socket.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


async def test_anonymous_connection_init_is_acknowledged(live_server):
    async with websockets.connect(live_server.ws_url, subprotocols=[PROTOCOL]) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await socket.recv())["type"] == "connection_ack"


async def test_foreign_origin_handshake_is_refused(live_server):
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        async with websockets.connect(
            live_server.ws_url,
            subprotocols=[PROTOCOL],
            origin=Origin("https://evil.example.com"),
        ):
            pass
    assert refused.value.response.status_code == 403


REFRESH_BY_COOKIE = "mutation { refreshToken { accessToken } }"


async def cookie_login(server) -> str:
    """Log in in cookie mode over HTTP; the refresh cookie's value."""
    await access_token(server)  # creates the account
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        response = await client.post(
            "/graphql",
            json={
                "query": 'mutation($p: String!) { login(email: "ada@example.com", password: $p,'
                " useCookie: true) { accessToken } }",
                "variables": {"p": PASSWORD},
            },
        )
        return str(response.cookies["agora_refresh"])


async def test_the_refresh_cookie_is_never_read_on_a_websocket(live_server):
    cookie = await cookie_login(live_server)
    async with websockets.connect(
        live_server.ws_url,
        subprotocols=[PROTOCOL],
        additional_headers={"Cookie": f"agora_refresh={cookie}"},
    ) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        await socket.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": REFRESH_BY_COOKIE}})
        )
        message = json.loads(await socket.recv())
    [error] = message["payload"]["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "POST" in error["message"]
    # The cookie's session was not touched: its refresh token still works, once, over POST.
    async with httpx.AsyncClient(base_url=live_server.base_url) as client:
        response = await client.post(
            "/graphql",
            json={"query": REFRESH_BY_COOKIE},
            headers={"Cookie": f"agora_refresh={cookie}"},
        )
    assert response.json()["data"]["refreshToken"]["accessToken"]
