"""Firebase Cloud Messaging, HTTP v1 API.

How it talks to Google (checked against google-auth's ``oauth2/_client.py`` and
firebase-admin's ``messaging.py``):
- Access token: a JWT signed RS256 with the service account's private key (header ``kid`` =
  ``private_key_id``; claims ``iss`` = ``client_email``, ``scope`` =
  ``https://www.googleapis.com/auth/firebase.messaging``, ``aud`` = the token URI, ``iat``,
  ``exp`` at most one hour later) is POSTed form-encoded as
  ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<jwt>`` to the token
  URI, which answers ``{"access_token", "expires_in", "token_type": "Bearer"}``. The token
  is cached until ``refresh_margin`` seconds before it expires.
- Send: ``POST {endpoint}/v1/projects/{project}/messages:send`` with
  ``Authorization: Bearer <token>`` and ``{"message": {"token", "notification": {"title",
  "body"}, "data": {str: str}}}``; 200 answers ``{"name": "projects/…/messages/…"}``.
- Errors are ``{"error": {"code", "message", "status", "details": [{"@type":
  "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": …}]}}``. A dead token
  is 404 ``UNREGISTERED`` or 400 ``INVALID_ARGUMENT``: Firebase's token management guide
  says to delete the token on either (our payload is small and fixed in shape, so an
  INVALID_ARGUMENT is about the token). 429 ``QUOTA_EXCEEDED`` and 5xx
  (``UNAVAILABLE``, ``INTERNAL``) are transient. 401 means our access token was refused:
  it is dropped from the cache and the attempt fails so the job retries with a new one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt

from core import tracing
from core.faults import count_fault
from services.push.base import (
    InvalidPushTokenError,
    PushDeliveryError,
    PushMessage,
    mask_token,
)

logger = logging.getLogger("agora.push")

FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
JWT_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
ASSERTION_LIFETIME_SECONDS = 3600  # Google's maximum
# (HTTP status, FCM error code) of a token that will never work again. A bare 404
# NOT_FOUND is not one of them: a wrong project id answers that too.
DEAD_TOKEN_ERRORS = frozenset({(404, "UNREGISTERED"), (400, "INVALID_ARGUMENT")})


@dataclass(frozen=True, slots=True)
class ServiceAccount:
    """The fields of a Google service-account key file that the JWT grant needs."""

    client_email: str
    private_key: str
    private_key_id: str | None = None

    @classmethod
    def from_file(cls, path: str | Path) -> ServiceAccount:
        try:
            info = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(
                client_email=info["client_email"],
                private_key=info["private_key"],
                private_key_id=info.get("private_key_id"),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(
                f"FCM_SERVICE_ACCOUNT_FILE {path}: not a readable service-account key "
                f"file with client_email and private_key ({type(exc).__name__})"
            ) from exc

    def __repr__(self) -> str:  # never print the key
        return f"ServiceAccount(client_email={self.client_email!r})"


class FcmPushProvider:
    """Sends through FCM HTTP v1 with one ``httpx.AsyncClient`` and one cached access token
    per process (concurrent sends wait for a single token request). Each request (connect,
    every read and write) gives up after ``timeout`` seconds; a failure that a retry may
    cure is a ``PushDeliveryError``, counted in ``dependency_failures_total{dependency="fcm"}``."""

    def __init__(
        self,
        project_id: str,
        account: ServiceAccount,
        *,
        endpoint: str = "https://fcm.googleapis.com",
        token_uri: str = "https://oauth2.googleapis.com/token",  # noqa: S107 - a URL
        client: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        refresh_margin: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.project_id = project_id
        self.account = account
        self.send_url = f"{endpoint.rstrip('/')}/v1/projects/{project_id}/messages:send"
        self.token_uri = token_uri
        self.refresh_margin = refresh_margin
        self._client = client or httpx.AsyncClient(timeout=timeout)
        if tracing.enabled:
            # A client span per FCM call, and the traceparent sent along with it.
            from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

            HTTPXClientInstrumentor.instrument_client(
                self._client, tracer_provider=tracing.provider()
            )
        self._owns_client = client is None
        self._clock = clock
        self._access_token: str | None = None
        self._token_expires_at = 0.0  # the clock's time after which the token is not used
        self._token_lock = asyncio.Lock()
        self.token_requests = 0

    async def send(self, message: PushMessage) -> None:
        try:
            await self._send(message)
        except PushDeliveryError:
            count_fault("fcm", "send")  # the job logs it (throttled) and retries
            raise

    async def _send(self, message: PushMessage) -> None:
        token = await self._current_access_token()
        payload: dict[str, Any] = {
            "message": {
                "token": message.token,
                "notification": {"title": message.title, "body": message.body},
                "data": message.data,
            }
        }
        try:
            response = await self._client.post(
                self.send_url, json=payload, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as exc:
            raise PushDeliveryError(f"FCM unreachable: {type(exc).__name__}: {exc}") from exc
        if response.is_success:
            logger.debug("push sent to %s", mask_token(message.token), extra={"fcmStatus": 200})
            return
        status, code, text = _error_of(response)
        if code is not None and (response.status_code, code) in DEAD_TOKEN_ERRORS:
            raise InvalidPushTokenError(code)
        if response.status_code == 401:
            self._forget_token(token)
        raise PushDeliveryError(
            f"FCM answered {response.status_code} {status or ''} {code or ''}: {text}".strip(),
            status=response.status_code,
        )

    async def close(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    # --- the access token ------------------------------------------------------------

    async def _current_access_token(self) -> str:
        if self._access_token is not None and self._clock() < self._token_expires_at:
            return self._access_token
        async with self._token_lock:
            # Whoever waited for the lock finds the token its predecessor fetched.
            if self._access_token is not None and self._clock() < self._token_expires_at:
                return self._access_token
            token, lifetime = await self._fetch_access_token()
            # Refresh `refresh_margin` before expiry; a short-lived token is used for half
            # its life.
            usable_for = max(lifetime - self.refresh_margin, lifetime / 2)
            self._access_token = token
            self._token_expires_at = self._clock() + usable_for
            return token

    def _forget_token(self, token: str) -> None:
        if self._access_token == token:
            self._access_token = None
            self._token_expires_at = 0.0

    def _assertion(self) -> str:
        now = int(self._clock())
        claims = {
            "iss": self.account.client_email,
            "scope": FCM_SCOPE,
            "aud": self.token_uri,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_SECONDS,
        }
        headers = {"kid": self.account.private_key_id} if self.account.private_key_id else None
        return jwt.encode(claims, self.account.private_key, algorithm="RS256", headers=headers)

    async def _fetch_access_token(self) -> tuple[str, float]:
        self.token_requests += 1
        form = {"grant_type": JWT_GRANT_TYPE, "assertion": self._assertion()}
        try:
            response = await self._client.post(self.token_uri, data=form)
        except httpx.HTTPError as exc:
            raise PushDeliveryError(
                f"OAuth token endpoint unreachable: {type(exc).__name__}: {exc}"
            ) from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not response.is_success or not isinstance(body.get("access_token"), str):
            error = body.get("error") if isinstance(body, dict) else None
            raise PushDeliveryError(
                f"OAuth token endpoint answered {response.status_code}: {error or 'no token'}",
                status=response.status_code,
            )
        lifetime = float(body.get("expires_in") or ASSERTION_LIFETIME_SECONDS)
        logger.info(
            "FCM access token obtained for %s, valid %.0f s",
            self.account.client_email,
            lifetime,
            extra={"fcmProject": self.project_id},
        )
        return body["access_token"], lifetime


def _error_of(response: httpx.Response) -> tuple[str | None, str | None, str]:
    """(status, FCM error code, message) of an error response; the code is the
    ``FcmError`` detail's ``errorCode``, else the status (``NOT_FOUND``, ...)."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if not isinstance(error, dict):
        return None, None, response.text[:200]
    status = error.get("status") if isinstance(error.get("status"), str) else None
    code = status
    for detail in error.get("details") or ():
        if isinstance(detail, dict) and detail.get("@type") == FCM_ERROR_TYPE:
            code = detail.get("errorCode") or code
            break
    return status, code, str(error.get("message") or "")[:200]
