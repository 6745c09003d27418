"""Push: the FCM HTTP v1 provider against a local server playing FCM and Google's OAuth
token endpoint (tests/fake_fcm.py), and the send_push job with its retries and dead-token
removal, end to end from a mutation; the log provider never writes a whole token."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from models.notifications import Device, DevicePlatform, Notification
from models.user import User
from services.jobs import InProcessJobQueue
from services.push import (
    FcmPushProvider,
    InvalidPushTokenError,
    LogPushProvider,
    PushDeliveryError,
    PushMessage,
    ServiceAccount,
    build_push_provider,
)
from tests import factories
from tests.conftest import AppFactory, graphql, make_settings
from tests.fake_fcm import CLIENT_EMAIL, FCM_SCOPE, FakeFcm, running_fake_fcm

PROJECT = "agora-test"
TRANSFER = """
mutation($to: ID!, $key: String!) {
  transfer(input: {toUserId: $to, amount: "3.00", idempotencyKey: $key}) { id }
}
"""
REGISTER_DEVICE = """
mutation($token: String!, $platform: DevicePlatform!) {
  registerDevice(token: $token, platform: $platform)
}
"""


@pytest.fixture
async def fcm(tmp_path: Path) -> AsyncIterator[FakeFcm]:
    async with running_fake_fcm(PROJECT) as fake:
        fake.write_service_account(tmp_path)
        yield fake


def provider(fcm: FakeFcm, tmp_path: Path, **options: Any) -> FcmPushProvider:
    return FcmPushProvider(
        PROJECT,
        ServiceAccount.from_file(tmp_path / "service-account.json"),
        endpoint=fcm.url,
        token_uri=fcm.token_uri,
        **options,
    )


def message(token: str = "device-token-1", **data: str) -> PushMessage:
    return PushMessage(token=token, title="Hello", body="World", data=data)


class Clock:
    """A clock moved by hand. The token endpoint checks the assertion's ``iat`` and ``exp``
    against the real time, so a test that moves it forward starts it in the past."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# --- the provider ------------------------------------------------------------------


async def test_fcm_sends_to_the_v1_url_with_a_bearer_token_fetched_once(
    fcm: FakeFcm, tmp_path: Path
) -> None:
    push = provider(fcm, tmp_path)
    try:
        await push.send(message("device-token-1", kind="WELCOME"))
        await push.send(message("device-token-2"))
    finally:
        await push.close()

    [grant] = fcm.token_requests
    assert grant.form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assert grant.header == {"alg": "RS256", "typ": "JWT", "kid": "key-1"}
    assert grant.claims is not None  # signature, aud, iss checked by the fake
    assert grant.claims["iss"] == CLIENT_EMAIL
    assert grant.claims["scope"] == FCM_SCOPE
    assert grant.claims["aud"] == fcm.token_uri
    assert grant.claims["exp"] - grant.claims["iat"] == 3600
    assert [send.path for send in fcm.sends] == [f"/v1/projects/{PROJECT}/messages:send"] * 2
    assert {send.authorization for send in fcm.sends} == {"Bearer ya29.fake-1"}
    assert fcm.sends[0].body == {
        "message": {
            "token": "device-token-1",
            "notification": {"title": "Hello", "body": "World"},
            "data": {"kind": "WELCOME"},
        }
    }
    assert push.token_requests == 1


async def test_concurrent_sends_share_one_token_request(fcm: FakeFcm, tmp_path: Path) -> None:
    push = provider(fcm, tmp_path)
    try:
        await asyncio.gather(*(push.send(message(f"token-{k}")) for k in range(5)))
    finally:
        await push.close()

    assert len(fcm.token_requests) == 1
    assert len(fcm.sends) == 5


async def test_the_token_is_renewed_shortly_before_it_expires(fcm: FakeFcm, tmp_path: Path) -> None:
    clock = Clock(time.time() - 3400)  # the three assertions stay valid in real time
    push = provider(fcm, tmp_path, clock=clock, refresh_margin=300)
    try:
        await push.send(message())
        clock.now += 3600 - 301  # still more than the margin left: reused
        await push.send(message())
        clock.now += 2  # within 300 s of expiry: a new one
        await push.send(message())
    finally:
        await push.close()

    assert len(fcm.token_requests) == 2
    assert [send.authorization for send in fcm.sends] == [
        "Bearer ya29.fake-1",
        "Bearer ya29.fake-1",
        "Bearer ya29.fake-2",
    ]


async def test_a_refused_access_token_is_dropped_and_the_next_send_gets_a_new_one(
    fcm: FakeFcm, tmp_path: Path
) -> None:
    push = provider(fcm, tmp_path)
    try:
        await push.send(message())
        fcm.revoke_access_tokens()
        with pytest.raises(PushDeliveryError) as refused:
            await push.send(message())
        await push.send(message())
    finally:
        await push.close()

    assert refused.value.status == 401
    assert len(fcm.token_requests) == 2


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_transient_errors_raise_a_delivery_error(
    fcm: FakeFcm, tmp_path: Path, status: int
) -> None:
    push = provider(fcm, tmp_path)
    fcm.fail_next(status)
    try:
        with pytest.raises(PushDeliveryError) as failure:
            await push.send(message())
    finally:
        await push.close()

    assert failure.value.status == status


async def test_unregistered_and_invalid_tokens_are_reported_as_dead(
    fcm: FakeFcm, tmp_path: Path
) -> None:
    fcm.unregister("gone")
    fcm.make_invalid("garbage")
    push = provider(fcm, tmp_path)
    try:
        with pytest.raises(InvalidPushTokenError) as gone:
            await push.send(message("gone"))
        with pytest.raises(InvalidPushTokenError) as garbage:
            await push.send(message("garbage"))
    finally:
        await push.close()

    assert (gone.value.reason, garbage.value.reason) == ("UNREGISTERED", "INVALID_ARGUMENT")


async def test_a_wrong_project_is_not_mistaken_for_a_dead_token(
    fcm: FakeFcm, tmp_path: Path
) -> None:
    push = FcmPushProvider(
        "another-project",
        ServiceAccount.from_file(tmp_path / "service-account.json"),
        endpoint=fcm.url,
        token_uri=fcm.token_uri,
    )
    try:
        with pytest.raises(PushDeliveryError) as failure:
            await push.send(message())
    finally:
        await push.close()

    assert failure.value.status == 404


async def test_an_unreachable_fcm_is_a_delivery_error(tmp_path: Path) -> None:
    async with running_fake_fcm(PROJECT) as fake:
        fake.write_service_account(tmp_path)
        url = fake.url
    push = FcmPushProvider(
        PROJECT,
        ServiceAccount.from_file(tmp_path / "service-account.json"),
        endpoint=url,
        token_uri=f"{url}/token",
    )
    try:
        with pytest.raises(PushDeliveryError, match="unreachable"):
            await push.send(message())
    finally:
        await push.close()


def test_a_bad_service_account_file_stops_the_start(tmp_path: Path) -> None:
    missing = make_settings(
        push_backend="fcm",
        fcm_project_id=PROJECT,
        fcm_service_account_file=str(tmp_path / "missing.json"),
    )
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"client_email": "x@y.test"}))

    with pytest.raises(ValueError, match="FCM_SERVICE_ACCOUNT_FILE"):
        build_push_provider(missing)
    with pytest.raises(ValueError, match="client_email and private_key"):
        ServiceAccount.from_file(broken)
    assert "PRIVATE" not in repr(ServiceAccount("a@b.test", "-----BEGIN PRIVATE KEY-----"))


async def test_the_log_provider_never_logs_a_whole_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="agora.push")
    token = "fcm-registration-token-" + "x" * 100
    push = LogPushProvider()

    await push.send(PushMessage(token=token, title="Hi", body="secret body"))

    assert push.sent[0].token == token
    text = "\n".join(
        record.getMessage() + str(record.__dict__.get("pushToken")) for record in caplog.records
    )
    assert "Hi" in text
    assert token not in text
    assert "secret body" not in text


# --- the send_push job, end to end ------------------------------------------------


def fcm_client(client_factory: AppFactory, fcm: FakeFcm, tmp_path: Path) -> httpx.AsyncClient:
    return client_factory(
        push_backend="fcm",
        fcm_project_id=PROJECT,
        fcm_service_account_file=str(tmp_path / "service-account.json"),
        fcm_endpoint=fcm.url,
        fcm_token_uri=fcm.token_uri,
        job_retry_delay_seconds=0.01,
        job_max_attempts=3,
    )


async def notify_by_transfer(client: httpx.AsyncClient, receiver: User) -> InProcessJobQueue:
    """A transfer to ``receiver`` (a TRANSFER_RECEIVED notification), then every job run."""
    sender = await factories.create_user(balance_cents=1_000)
    response = await graphql(
        client,
        TRANSFER,
        {"to": factories.gid("User", receiver.id), "key": "k-1"},
        factories.bearer(client, sender),
    )
    assert "errors" not in response.json(), response.json()
    queue = client.container.jobs  # type: ignore[attr-defined]
    assert isinstance(queue, InProcessJobQueue)
    async with asyncio.timeout(10):
        await queue.drain()
    return queue


async def register(client: httpx.AsyncClient, user: User, token: str) -> None:
    response = await graphql(
        client,
        REGISTER_DEVICE,
        {"token": token, "platform": "ANDROID"},
        factories.bearer(client, user),
    )
    assert response.json()["data"] == {"registerDevice": True}


async def test_a_notification_is_pushed_through_fcm_by_the_job(
    client_factory: AppFactory, fcm: FakeFcm, tmp_path: Path
) -> None:
    client = fcm_client(client_factory, fcm, tmp_path)
    receiver = await factories.create_user()
    await register(client, receiver, "receiver-phone")

    queue = await notify_by_transfer(client, receiver)

    [notification] = await Notification.filter(user_id=receiver.id)
    [send] = fcm.sends
    assert send.authorization == "Bearer ya29.fake-1"
    assert send.message["token"] == "receiver-phone"
    assert send.message["notification"] == {
        "title": "You received 3.00",
        "body": notification.body,
    }
    assert send.message["data"]["notificationId"] == factories.gid("Notification", notification.id)
    assert send.message["data"]["kind"] == "TRANSFER_RECEIVED"
    assert all(isinstance(value, str) for value in send.message["data"].values())
    assert queue.failed == []


async def test_a_503_then_200_is_retried_by_the_job(
    client_factory: AppFactory, fcm: FakeFcm, tmp_path: Path
) -> None:
    client = fcm_client(client_factory, fcm, tmp_path)
    receiver = await factories.create_user()
    await register(client, receiver, "receiver-phone")
    fcm.fail_next(503)

    queue = await notify_by_transfer(client, receiver)

    assert [send.message["token"] for send in fcm.sends] == ["receiver-phone"] * 2
    assert queue.retried == 1
    assert queue.failed == []
    assert len(fcm.token_requests) == 1  # the retry reused the cached access token
    assert await Device.filter(token="receiver-phone").exists()


async def test_an_unregistered_token_removes_only_that_device(
    client_factory: AppFactory, fcm: FakeFcm, tmp_path: Path
) -> None:
    client = fcm_client(client_factory, fcm, tmp_path)
    receiver = await factories.create_user()
    await register(client, receiver, "old-phone")
    await register(client, receiver, "new-phone")
    fcm.unregister("old-phone")

    queue = await notify_by_transfer(client, receiver)

    remaining = [device.token for device in await Device.filter(user_id=receiver.id)]
    assert remaining == ["new-phone"]
    assert sorted(send.message["token"] for send in fcm.sends) == ["new-phone", "old-phone"]
    assert queue.failed == []  # a dead token is handled, not a failure
    assert queue.retried == 0


async def test_push_failures_that_outlast_the_retries_keep_the_device(
    client_factory: AppFactory, fcm: FakeFcm, tmp_path: Path
) -> None:
    client = fcm_client(client_factory, fcm, tmp_path)
    receiver = await factories.create_user()
    await register(client, receiver, "receiver-phone")
    fcm.fail_next(503, 503, 503)

    queue = await notify_by_transfer(client, receiver)

    [failed] = queue.failed
    assert failed.name == "send_push"
    assert failed.attempts == 3
    assert "503" in failed.error
    assert await Device.filter(token="receiver-phone").exists()


async def test_the_job_skips_a_device_that_moved_to_another_user(
    client_factory: AppFactory, fcm: FakeFcm, tmp_path: Path
) -> None:
    from services.jobs.base import JobContext
    from services.notifications import send_push

    client = fcm_client(client_factory, fcm, tmp_path)
    owner, new_owner = await factories.create_users(2)
    device = await Device.create(user=owner, token="shared", platform=DevicePlatform.WEB)
    notification = await Notification.create(
        user=owner, kind="SYSTEM", title="t", body="b", data={}
    )
    await Device.filter(id=device.id).update(user_id=new_owner.id)
    context = JobContext(mailer=client.container.mailer, push=client.container.push)  # type: ignore[attr-defined]

    outcome = await send_push(context, notification_id=notification.id, device_id=device.id)

    assert outcome == "skipped"
    assert fcm.sends == []
