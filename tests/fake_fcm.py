"""A local HTTP server that plays FCM HTTP v1 and Google's OAuth token endpoint.

    async with running_fake_fcm(project_id="agora-test") as fcm:
        account_file = fcm.write_service_account(tmp_path)      # a fresh RSA key pair
        ... FCM_ENDPOINT=fcm.url, FCM_TOKEN_URI=fcm.token_uri ...
        fcm.fail_next(503)                                      # the next send answers 503
        fcm.unregister("dead-token")                            # 404 UNREGISTERED for it

The token endpoint checks the JWT grant the way Google does (RS256 signature with the
account's public key, ``iss``, ``aud``, ``scope``, ``exp``) and hands out opaque access
tokens; the send endpoint accepts only tokens it handed out, and records every request.
It is a small Starlette app served by uvicorn in the test's own event loop on a free port.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

HOST = "127.0.0.1"
CLIENT_EMAIL = "agora-push@agora-test.iam.gserviceaccount.com"
FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"


@dataclass
class SendRequest:
    path: str
    authorization: str | None
    body: dict[str, Any]

    @property
    def message(self) -> dict[str, Any]:
        return self.body["message"]  # type: ignore[no-any-return]


@dataclass
class TokenRequest:
    form: dict[str, str]
    claims: dict[str, Any] | None  # the verified assertion; None if it was refused
    header: dict[str, Any]


@dataclass
class FakeFcm:
    project_id: str
    url: str = ""
    expires_in: int = 3600
    sends: list[SendRequest] = field(default_factory=list)
    token_requests: list[TokenRequest] = field(default_factory=list)
    issued: set[str] = field(default_factory=set)
    unregistered: set[str] = field(default_factory=set)
    invalid: set[str] = field(default_factory=set)
    _failures: list[int] = field(default_factory=list)
    _public_key: Any = None
    _token_numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _message_numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    @property
    def send_path(self) -> str:
        return f"/v1/projects/{self.project_id}/messages:send"

    def write_service_account(self, directory: Path, private_key_id: str = "key-1") -> Path:
        """A service-account key file with a new RSA key, whose public half this server
        uses to check the JWT grants."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._public_key = key.public_key()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        path = directory / "service-account.json"
        path.write_text(
            json.dumps(
                {
                    "type": "service_account",
                    "project_id": self.project_id,
                    "private_key_id": private_key_id,
                    "private_key": pem,
                    "client_email": CLIENT_EMAIL,
                    "token_uri": self.token_uri,
                }
            ),
            encoding="utf-8",
        )
        return path

    def fail_next(self, *statuses: int) -> None:
        """The next sends answer these statuses, in order (then 200 again)."""
        self._failures.extend(statuses)

    def unregister(self, token: str) -> None:
        self.unregistered.add(token)

    def make_invalid(self, token: str) -> None:
        self.invalid.add(token)

    def revoke_access_tokens(self) -> None:
        self.issued.clear()

    # --- the endpoints ----------------------------------------------------------------

    async def token(self, request: Request) -> JSONResponse:
        form = {key: str(value) for key, value in (await request.form()).items()}
        assertion = form.get("assertion", "")
        header = jwt.get_unverified_header(assertion) if assertion else {}
        try:
            if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
                raise jwt.InvalidTokenError("unsupported grant_type")
            claims = jwt.decode(
                assertion,
                self._public_key,
                algorithms=["RS256"],
                audience=self.token_uri,
                issuer=CLIENT_EMAIL,
                options={"require": ["iss", "aud", "exp", "iat", "scope"]},
            )
            if claims["scope"] != FCM_SCOPE or claims["exp"] - claims["iat"] > 3600:
                raise jwt.InvalidTokenError("bad scope or lifetime")
        except jwt.InvalidTokenError as exc:
            self.token_requests.append(TokenRequest(form, None, header))
            return JSONResponse(
                {"error": "invalid_grant", "error_description": str(exc)}, status_code=400
            )
        self.token_requests.append(TokenRequest(form, claims, header))
        access_token = f"ya29.fake-{next(self._token_numbers)}"
        self.issued.add(access_token)
        return JSONResponse(
            {"access_token": access_token, "expires_in": self.expires_in, "token_type": "Bearer"}
        )

    async def send(self, request: Request) -> JSONResponse:
        body = await request.json()
        authorization = request.headers.get("authorization")
        self.sends.append(SendRequest(request.url.path, authorization, body))
        if request.path_params["project"] != self.project_id:
            return _error(404, "NOT_FOUND", "Requested entity was not found.")
        if authorization is None or authorization.removeprefix("Bearer ") not in self.issued:
            return _error(401, "UNAUTHENTICATED", "Request had invalid authentication.")
        if self._failures:
            status = self._failures.pop(0)
            name = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL"}.get(status, "UNAVAILABLE")
            code = "QUOTA_EXCEEDED" if status == 429 else name
            return _error(status, name, "try again later", code)
        token = body.get("message", {}).get("token")
        if token in self.unregistered:
            return _error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED")
        if token in self.invalid:
            return _error(
                400,
                "INVALID_ARGUMENT",
                "The registration token is not a valid FCM registration token",
                "INVALID_ARGUMENT",
            )
        return JSONResponse(
            {"name": f"projects/{self.project_id}/messages/{next(self._message_numbers)}"}
        )

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/token", self.token, methods=["POST"]),
                Route("/v1/projects/{project}/messages:send", self.send, methods=["POST"]),
            ]
        )


def _error(status: int, name: str, message: str, fcm_code: str | None = None) -> JSONResponse:
    error: dict[str, Any] = {"code": status, "message": message, "status": name}
    if fcm_code is not None:
        error["details"] = [{"@type": FCM_ERROR_TYPE, "errorCode": fcm_code}]
    return JSONResponse({"error": error}, status_code=status)


@asynccontextmanager
async def running_fake_fcm(project_id: str = "agora-test") -> AsyncIterator[FakeFcm]:
    fake = FakeFcm(project_id)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    port = sock.getsockname()[1]
    fake.url = f"http://{HOST}:{port}"
    config = uvicorn.Config(fake.app(), log_config=None, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, no event
                await asyncio.sleep(0.01)
        yield fake
    finally:
        server.should_exit = True
        await task
        sock.close()
