"""``python -m server serve --workers 2`` for real: whichever worker answers ``/metrics``,
the counters are the sum over both workers and each worker's process figures are there."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from core.metrics import MULTIPROCESS_DIR_VARIABLE
from tests.e2e.conftest import free_port
from tests.e2e.processes import PROJECT_ROOT, SERVER, run_cli, server_env, stop_server

REQUESTS = 40
SCRAPES = 6
LIVE = {"method": "GET", "route": "/health/live", "status": "200"}


def samples(exposition: str, name: str) -> list[tuple[dict[str, str], float]]:
    return [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == name
    ]


def value(exposition: str, name: str, labels: dict[str, str]) -> float:
    return sum(v for sample_labels, v in samples(exposition, name) if sample_labels == labels)


async def fresh_connection_get(base_url: str, path: str) -> httpx.Response:
    """One request on a new connection, so that the kernel may hand it to either worker."""
    async with httpx.AsyncClient(base_url=base_url) as http:
        return await http.get(path)


@pytest.fixture
async def two_workers(tmp_path: Path) -> AsyncIterator[str]:
    env = server_env(
        f"sqlite://{tmp_path / 'agora.sqlite3'}", METRICS_SAMPLE_INTERVAL_SECONDS="0.05"
    )
    env.pop(MULTIPROCESS_DIR_VARIABLE, None)
    await run_cli(env, "migrate")
    port = free_port()
    with open(tmp_path / "serve.log", "wb") as log:  # noqa: ASYNC230 - written by the child
        process = await asyncio.create_subprocess_exec(
            *SERVER,
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
            env=env,
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        async with asyncio.timeout(60):
            while True:
                assert process.returncode is None, (tmp_path / "serve.log").read_text()
                try:
                    if (await fresh_connection_get(base_url, "/metrics")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        yield base_url
    finally:
        await stop_server(process)


async def test_two_workers_report_the_sum_of_their_counters(two_workers: str) -> None:
    for _ in range(REQUESTS):
        assert (await fresh_connection_get(two_workers, "/health/live")).status_code == 200

    # Both workers copy their own process figures (a pid each) once they sampled.
    async with asyncio.timeout(30):
        while True:
            exposition = (await fresh_connection_get(two_workers, "/metrics")).text
            pids = {labels["pid"] for labels, _ in samples(exposition, "process_open_fds")}
            if len(pids) == 2:
                break
            await asyncio.sleep(0.1)

    for _ in range(SCRAPES):
        exposition = (await fresh_connection_get(two_workers, "/metrics")).text
        assert value(exposition, "http_requests_total", LIVE) == REQUESTS
        assert {labels["pid"] for labels, _ in samples(exposition, "process_open_fds")} == pids
