"""FCM down, through the app: the fake FCM answering 5xx, an FCM nothing listens on, and one
that accepts connections and never answers. The action that notifies succeeds (pushes are
background jobs); the send_push job is retried, then given up and counted; the device stays."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from core.metrics import REGISTRY
from models.notifications import Device
from services.push import PushDeliveryError, PushMessage, build_push_provider
from tests import factories
from tests.blackhole import blackhole
from tests.conftest import AppFactory, make_settings
from tests.fake_fcm import FakeFcm, running_fake_fcm
from tests.integration.test_push import PROJECT, notify_by_transfer, register
from tests.smtp_server import HOST, free_port

ATTEMPTS = 3


@pytest.fixture
async def fcm(tmp_path: Path) -> AsyncIterator[FakeFcm]:
    async with running_fake_fcm(PROJECT) as fake:
        fake.write_service_account(tmp_path)
        yield fake


def fcm_settings(endpoint: str, token_uri: str, tmp_path: Path) -> dict[str, Any]:
    return {
        "push_backend": "fcm",
        "fcm_project_id": PROJECT,
        "fcm_service_account_file": str(tmp_path / "service-account.json"),
        "fcm_endpoint": endpoint,
        "fcm_token_uri": token_uri,
        "job_retry_delay_seconds": 0.01,
        "job_max_attempts": ATTEMPTS,
    }


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_transfer_succeeds_while_fcm_is_unreachable(
    client_factory: AppFactory, tmp_path: Path
) -> None:
    FakeFcm(PROJECT).write_service_account(tmp_path)
    nowhere = f"http://{HOST}:{free_port()}"
    client = client_factory(**fcm_settings(nowhere, f"{nowhere}/token", tmp_path))
    receiver = await factories.create_user()
    await register(client, receiver, "receiver-phone")

    queue = await notify_by_transfer(client, receiver)  # asserts the transfer has no errors

    [failed] = queue.failed
    assert (failed.name, failed.attempts) == ("send_push", ATTEMPTS)
    assert "unreachable" in failed.error
    assert await Device.filter(token="receiver-phone").exists()


async def test_fcm_errors_count_as_dependency_failures_and_the_job_given_up(
    client_factory: AppFactory, fcm: FakeFcm, tmp_path: Path
) -> None:
    client = client_factory(**fcm_settings(fcm.url, fcm.token_uri, tmp_path))
    receiver = await factories.create_user()
    await register(client, receiver, "receiver-phone")
    fcm.fail_next(*[503] * ATTEMPTS)
    failures_before = sample("dependency_failures_total", dependency="fcm", operation="send")
    given_up_before = sample("jobs_failed_total", job_name="send_push")

    await notify_by_transfer(client, receiver)

    assert sample("dependency_failures_total", dependency="fcm", operation="send") == (
        failures_before + ATTEMPTS
    )
    assert sample("jobs_failed_total", job_name="send_push") == given_up_before + 1


async def test_a_silent_fcm_fails_the_attempt_at_the_fcm_timeout(tmp_path: Path) -> None:
    FakeFcm(PROJECT).write_service_account(tmp_path)
    with blackhole() as port:
        silent = f"http://{HOST}:{port}"
        settings: Any = make_settings(
            **fcm_settings(silent, f"{silent}/token", tmp_path), fcm_timeout_seconds=0.2
        )
        push = build_push_provider(settings)
        try:
            # Only so that a hang fails this test instead of stopping the suite (the
            # default timeout is 10 s).
            async with asyncio.timeout(5):
                with pytest.raises(PushDeliveryError, match="ReadTimeout"):
                    await push.send(PushMessage(token="t", title="Hello", body="World"))
        finally:
            await push.close()
