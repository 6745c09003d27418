"""The CPU that tracing costs per request, measured without a load generator: the
benchmark's query served by the app in-process (httpx's ASGI transport, no network), with
tracing off, sampled at 1% and at 100% (OTLP/HTTP to the local sink, bench/otlp_sink.py, in
its own process). Each measurement is a fresh process; the modes alternate, round after
round, so that what else the machine runs weighs on all of them alike. The number is the
process's user+system CPU time per request, the exporter's thread included.

    python -m bench.tracing_overhead --database-url postgres://postgres@127.0.0.1:5432/db

The database must be migrated and seeded (``seed --scale N``); nothing is written to it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from typing import Any

from bench.queries import NESTED_QUERY
from bench.run import ROOT, clean_env, free_port, our_settings, traced_settings

MODES = ("off", "1", "100")


async def _serve_requests(requests: int, warmup: int) -> dict[str, Any]:
    import httpx

    from core import tracing
    from core.settings import load_settings
    from server.app import create_app

    app = create_app(load_settings())
    body = {"query": NESTED_QUERY}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 40000)),
            base_url="http://127.0.0.1",
        ) as client,
    ):
        for _ in range(warmup):
            response = await client.post("/graphql", json=body)
            assert response.status_code == 200, response.text
            assert "errors" not in response.json(), response.text
        started = time.process_time()
        for _ in range(requests):
            await client.post("/graphql", json=body)
        tracing.flush()  # the spans of these requests exported, on this process's CPU
        cpu = time.process_time() - started
    return {"cpu_ms_per_request": 1000 * cpu / requests, "tracing": tracing.enabled}


def measure(mode: str, database_url: str, sink: str, requests: int, warmup: int) -> float:
    settings = {**our_settings(database_url), "LOG_LEVEL": "WARNING"}
    if mode != "off":
        settings.update(traced_settings(sink, int(mode)))
    result = subprocess.run(
        [sys.executable, "-m", "bench.tracing_overhead", "--child", str(requests), str(warmup)],
        cwd=ROOT,
        env=clean_env(**settings),
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    numbers = json.loads(result.stdout.strip().splitlines()[-1])
    assert numbers["tracing"] is (mode != "off"), numbers
    return float(numbers["cpu_ms_per_request"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=300, help="measured, per process")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, "-m", "bench.otlp_sink", str(port)],
        cwd=ROOT,
        env=clean_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    samples: dict[str, list[float]] = {mode: [] for mode in MODES}
    try:
        for round_number in range(args.rounds):
            # Rotate the order: no mode always runs first (or last) in a round.
            shift = round_number % len(MODES)
            for mode in MODES[shift:] + MODES[:shift]:
                cpu = measure(
                    mode, args.database_url, f"http://127.0.0.1:{port}", args.requests, args.warmup
                )
                samples[mode].append(cpu)
                print(f"round {round_number + 1} {mode:>3}: {cpu:.3f} ms CPU/request", flush=True)
    finally:
        sink.terminate()
        received = sink.communicate(timeout=10)[0].strip()
    off = statistics.median(samples["off"])
    print(f"\n{received}")
    print("| tracing | CPU/request (median of rounds) | vs off |")
    print("|---|---|---|")
    for mode in MODES:
        median = statistics.median(samples[mode])
        label = "off" if mode == "off" else f"on, {mode}% sampled"
        print(f"| {label} | {median:.3f} ms | {100 * (median - off) / off:+.1f}% |")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        numbers = asyncio.run(_serve_requests(int(sys.argv[2]), int(sys.argv[3])))
        print(json.dumps(numbers))
    else:
        main()
