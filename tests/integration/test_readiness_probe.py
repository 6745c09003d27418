"""The probes of deploy/k8s answer on a healthy app. Its readiness probe,
`/health/ready?optional=redis`, reports Redis but does not fail on it: every replica shares
Redis and the API degrades without it, so failing would take all of them out of the load
balancer at once. The database still fails it."""

from __future__ import annotations

from typing import Any

import pytest
from tortoise import connections

from tests.conftest import AppFactory
from tests.deploy_files import resource

PROBE = "/health/ready?optional=redis"
PROBES = ("startupProbe", "livenessProbe", "readinessProbe")


async def test_an_optional_redis_that_is_down_is_reported_without_failing_readiness(
    client_factory: AppFactory,
) -> None:
    client = client_factory(redis_url="redis://127.0.0.1:1")  # nothing listens on port 1

    response = await client.get(PROBE)

    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "redis": "unavailable"},
    }


async def test_the_database_still_fails_readiness_when_redis_is_optional(
    client_factory: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_factory()

    async def refuse(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionRefusedError("database is down")

    monkeypatch.setattr(connections.get("default"), "execute_query", refuse)

    response = await client.get(PROBE)

    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unavailable"


async def test_every_probe_of_the_api_deployment_answers_200_on_a_healthy_app(
    client_factory: AppFactory,
) -> None:
    [api] = resource("Deployment", "agora-api")["spec"]["template"]["spec"]["containers"]
    paths = {api[probe]["httpGet"]["path"] for probe in PROBES}
    assert PROBE in paths
    client = client_factory()

    for path in sorted(paths):
        response = await client.get(path)
        assert response.status_code == 200, (path, response.text)
