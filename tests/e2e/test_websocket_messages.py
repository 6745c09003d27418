"""Malformed websocket messages on both protocols, against a real uvicorn: the socket is
closed with 4400 and a reason naming the problem (never an exception out of the app that
drops it with no reason), and the server keeps serving."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.typing import Subprotocol

from tests.e2e.wsclient import LEGACY_WS, TRANSPORT_WS, GraphQLWS, connect

SUBSCRIPTION = "subscription { postPublished { id } }"


def start(protocol: Subprotocol, payload: object, operation_id: object = "1") -> dict[str, Any]:
    kind = "start" if protocol == LEGACY_WS else "subscribe"
    return {"id": operation_id, "type": kind, "payload": payload}


MESSAGES: dict[str, tuple[Any, str]] = {
    "a list": ([1], "A message must be a JSON object, not a list"),
    "a string": ("subscribe", "A message must be a JSON object, not a string"),
    "null": (None, "A message must be a JSON object, not null"),
    "no type": ({"id": "1"}, "A message needs a string `type`"),
    "a number type": ({"type": 1}, "A message needs a string `type`"),
}
PAYLOADS: dict[str, tuple[object, str]] = {
    "a string payload": ("{ __typename }", "not a string"),
    "a null payload": (None, "not null"),
    "a list payload": ([{"query": SUBSCRIPTION}], "not a list"),
    "no query": ({}, "needs a `query`"),
    "a number query": ({"query": 1}, "`query` must be a string"),
    "a number operationName": (
        {"query": SUBSCRIPTION, "operationName": 1},
        "`operationName` must be a string",
    ),
    "a list operationName": (
        {"query": SUBSCRIPTION, "operationName": ["x"]},
        "`operationName` must be a string",
    ),
    "list variables": ({"query": SUBSCRIPTION, "variables": [1]}, "`variables` must be"),
    "string extensions": ({"query": SUBSCRIPTION, "extensions": "x"}, "`extensions` must be"),
}
PROTOCOLS = pytest.mark.parametrize(
    "protocol", [TRANSPORT_WS, LEGACY_WS], ids=["transport", "legacy"]
)


async def closed_with_reason(socket: GraphQLWS, message: object) -> tuple[int | None, str]:
    await socket.socket.send(json.dumps(message))
    code = await socket.closed_with()
    return code, socket.socket.close_reason or ""


async def still_serving(ws_url: str, protocol: Subprotocol) -> bool:
    async with connect(ws_url, protocol) as socket:
        acknowledgement = await socket.init()
    return bool(acknowledgement["type"] == "connection_ack")


@PROTOCOLS
@pytest.mark.parametrize(("message", "problem"), MESSAGES.values(), ids=MESSAGES.keys())
async def test_a_malformed_message_closes_with_4400(live_server, protocol, message, problem):
    async with connect(live_server.ws_url, protocol) as socket:
        await socket.init()
        code, reason = await closed_with_reason(socket, message)
    assert code == 4400
    assert problem in reason
    assert await still_serving(live_server.ws_url, protocol)


@PROTOCOLS
@pytest.mark.parametrize(("payload", "problem"), PAYLOADS.values(), ids=PAYLOADS.keys())
async def test_a_malformed_subscribe_payload_closes_with_4400(
    live_server, protocol, payload, problem
):
    async with connect(live_server.ws_url, protocol) as socket:
        await socket.init()
        code, reason = await closed_with_reason(socket, start(protocol, payload))
    assert code == 4400
    assert problem in reason
    assert await still_serving(live_server.ws_url, protocol)


@PROTOCOLS
async def test_a_subscribe_without_a_string_id_closes_with_4400(live_server, protocol):
    async with connect(live_server.ws_url, protocol) as socket:
        await socket.init()
        code, reason = await closed_with_reason(
            socket, start(protocol, {"query": SUBSCRIPTION}, operation_id=["1"])
        )
    assert code == 4400
    assert "needs a string `id`" in reason


def error_codes(message: dict[str, Any]) -> list[str]:
    payload = message["payload"]
    errors = payload if isinstance(payload, list) else payload.get("errors", [payload])
    return [error["extensions"]["code"] for error in errors]


async def test_an_unknown_operation_name_over_the_legacy_protocol_is_bad_user_input(
    live_server,
):
    async with connect(live_server.ws_url, LEGACY_WS) as socket:
        await socket.init()
        await socket.send(start(LEGACY_WS, {"query": SUBSCRIPTION, "operationName": "Missing"}))
        answer = await socket.receive()
    assert answer["type"] == "error"
    assert error_codes(answer) == ["BAD_USER_INPUT"]
    assert "Missing" in json.dumps(answer["payload"])


async def test_an_unknown_operation_name_closes_a_transport_socket_with_4400_naming_it(
    live_server,
):
    async with connect(live_server.ws_url, TRANSPORT_WS) as socket:
        await socket.init()
        code, reason = await closed_with_reason(
            socket, start(TRANSPORT_WS, {"query": SUBSCRIPTION, "operationName": "Missing"})
        )
    assert code == 4400
    assert "Missing" in reason


async def test_a_query_over_the_legacy_protocol_is_refused_as_bad_user_input(live_server):
    async with connect(live_server.ws_url, LEGACY_WS) as socket:
        await socket.init()
        await socket.subscribe("1", "{ __typename }")
        answer = await socket.receive()
    assert answer["type"] == "error"
    assert error_codes(answer) == ["BAD_USER_INPUT"]
    assert "graphql-transport-ws" in json.dumps(answer["payload"])
