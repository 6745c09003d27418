"""Liveness, readiness and the Prometheus exposition."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response

from core.faults import warn_repeated
from core.metrics import READINESS_CHECKS, READINESS_UP, exposition
from core.process_metrics import drain_gc_pauses
from server.container import Container
from server.database import ping_database
from server.responses import JSONResponse

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 2.0


async def live(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def _check(name: str, probe: Awaitable[object]) -> tuple[str, str]:
    try:
        await asyncio.wait_for(probe, CHECK_TIMEOUT_SECONDS)
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        warn_repeated(logger, name, "readiness", "readiness check %s failed: %s", name, exc)
        return _counted(name, "unavailable")
    return _counted(name, "ok")


def _counted(name: str, status: str) -> tuple[str, str]:
    READINESS_CHECKS.labels(name, status).inc()
    READINESS_UP.labels(name).set(1 if status == "ok" else 0)
    return name, status


async def ready(request: Request) -> Response:
    container: Container = request.app.state.container
    probes: dict[str, Awaitable[object]] = {"database": ping_database()}
    if container.redis is not None:
        probes["redis"] = container.redis.ping()  # type: ignore[assignment]
    results = dict(await asyncio.gather(*(_check(n, p) for n, p in probes.items())))
    # `?optional=redis`: reported, but not failing readiness. Every replica shares Redis, and
    # the API degrades without it; a readiness probe failing on it would take every replica
    # out of the load balancer at once (deploy/k8s/api.yaml).
    optional = set(request.query_params.getlist("optional"))
    all_ok = all(status == "ok" for status in results.values())
    ready_enough = all(status == "ok" or name in optional for name, status in results.items())
    return JSONResponse(
        {"status": "ok" if all_ok else "degraded", "checks": results},
        status_code=200 if ready_enough else 503,
    )


async def metrics(request: Request) -> Response:
    container: Container = request.app.state.container
    token = container.settings.metrics_token
    if token:
        supplied = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(supplied.encode(), token.encode()):
            return Response(
                "metrics require a bearer token\n",
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
                media_type="text/plain",
            )
    drain_gc_pauses()
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)
