"""``EdgeMiddleware``: the request id, the access log and the security headers in one layer,
answering and logging as the three middlewares stacked in that order do."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.request_context import operation_name_var, request_id_var, user_id_var
from server.middleware.access_log import AccessLogMiddleware
from server.middleware.edge import EdgeMiddleware
from server.middleware.request_id import RequestIdMiddleware
from server.middleware.security_headers import SecurityHeadersMiddleware

REQUEST_ID = "incoming-id-0123"


async def answer(scope: Scope, receive: Receive, send: Send) -> None:
    user_id_var.set("7")
    operation_name_var.set("Probe")
    await JSONResponse({"ok": True}, headers={"x-request-id": "app-set"})(scope, receive, send)


async def stream(scope: Scope, receive: Receive, send: Send) -> None:
    async def events() -> Any:
        yield b"data: 1\n\n"

    await StreamingResponse(events(), media_type="text/event-stream")(scope, receive, send)


async def broken(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("boom")


ROUTES: list[BaseRoute] = [Route("/graphql", answer, methods=["POST"])]


def stacked(app: ASGIApp, *, hsts: bool) -> ASGIApp:
    inner = SecurityHeadersMiddleware(app, hsts=hsts)
    return RequestIdMiddleware(AccessLogMiddleware(inner, routes=ROUTES))


def merged(app: ASGIApp, *, hsts: bool) -> ASGIApp:
    return EdgeMiddleware(app, routes=ROUTES, hsts=hsts)


def http_scope(headers: list[tuple[bytes, bytes]] | None = None) -> Scope:
    return {
        "type": "http",
        "method": "POST",
        "path": "/graphql",
        "root_path": "",
        "query_string": b"",
        "headers": headers or [(b"x-request-id", REQUEST_ID.encode())],
        "client": ("203.0.113.7", 5000),
    }


async def call(app: ASGIApp, scope: Scope) -> list[Message]:
    sent: list[Message] = []
    received = False

    async def receive() -> Message:
        nonlocal received
        if received:  # the client stays until the response ends
            await asyncio.Event().wait()
        received = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def logged(caplog: pytest.LogCaptureFixture) -> dict[str, Any]:
    records = [record for record in caplog.records if record.name == "agora.access"]
    assert len(records) == 1
    fields = dict(records[0].__dict__)
    for varying in ("created", "msecs", "relativeCreated", "duration_ms", "lineno", "pathname"):
        fields.pop(varying)
    fields.pop("filename")
    fields.pop("module")
    fields.pop("funcName")
    return fields


@pytest.mark.parametrize("hsts", [False, True])
@pytest.mark.parametrize("app", [answer, stream])
async def test_the_same_messages_and_log_line_as_the_three_middlewares(
    caplog: pytest.LogCaptureFixture, hsts: bool, app: ASGIApp
) -> None:
    caplog.set_level(logging.INFO, logger="agora.access")
    outcomes = []
    for wrap in (stacked, merged):
        caplog.clear()
        messages = await call(wrap(app, hsts=hsts), http_scope())
        outcomes.append((messages, logged(caplog)))

    assert outcomes[0] == outcomes[1]


async def test_a_new_request_id_is_stamped_when_none_came() -> None:
    scope = http_scope([(b"content-type", b"application/json")])

    messages = await call(merged(answer, hsts=False), scope)

    headers = dict(messages[0]["headers"])
    assert headers[b"x-request-id"].decode() == scope["state"]["request_id"]
    assert len(scope["state"]["request_id"]) == 32


async def test_a_failing_request_is_logged_as_500_and_its_context_reset(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="agora.access")

    with pytest.raises(RuntimeError, match="boom"):
        await call(merged(broken, hsts=False), http_scope())

    assert logged(caplog)["status"] == 500
    assert request_id_var.get() is None
    assert user_id_var.get() is None


async def test_a_websocket_gets_its_request_id_only() -> None:
    seen: dict[str, Any] = {}

    async def socket(scope: Scope, receive: Receive, send: Send) -> None:
        seen["var"] = request_id_var.get()
        seen["state"] = scope["state"]["request_id"]

    scope = {"type": "websocket", "path": "/graphql", "headers": []}
    await merged(socket, hsts=False)(scope, None, None)  # type: ignore[arg-type]

    assert seen["var"] == seen["state"]
    assert len(seen["state"]) == 32
    assert request_id_var.get() is None
