"""bench/run.py's Markdown table: a PostGraphile row and the ours/PostGraphile ratio beside
ours/naive and ours/floor when PostGraphile ran, and the reason when it was skipped; ours with
the response cache hit in a row of its own, with its own verdict against the floor."""

from __future__ import annotations

import subprocess
import time
from typing import Any

from bench.run import database_cpu_between, database_cpu_seconds, markdown


def numbers(rps: float) -> dict[str, Any]:
    return {
        "rps": rps,
        "latency_us": {"p50": 20_000, "p99": 60_000},
        "failed": 0,
        "server_cpu_ms_per_request": 1.5,
        "transactions_per_request": 5,
        "load_average_before": 1.0,
    }


def report(runs: dict[str, dict[str, Any]], skipped: str | None = None) -> dict[str, Any]:
    rps = {key: value["rps"] for key, value in runs.items()}
    return {
        "started": "2026-12-01T15:00:00+00:00",
        "revision": "abc1234",
        "labels": {key: f"label of {key}" for key in runs},
        "runs": runs,
        "ratios": {
            "ours_vs_naive": rps["ours"] / rps["naive"],
            "ours_vs_floor": rps["ours"] / rps["floor"],
            "ours_cached_vs_floor": rps["ours_cached"] / rps["floor"],
            "ours_vs_postgraphile": rps["ours"] / rps["postgraphile"]
            if "postgraphile" in rps
            else None,
        },
        "postgraphile": {"skipped": skipped, "node": "20.20.2", "version": "4.14.1"},
        "setup": {
            "scale": 10_000,
            "seeded": "10000 posts",
            "seed_seconds": 12.0,
            "wrk": "4.1.0",
            "threads": 2,
            "connections": 32,
            "duration": 15,
            "warmup": 3,
            "postgres": "16.4",
        },
        "machine": {
            "cores": 2,
            "cpu": "test CPU",
            "memory": "8 GiB",
            "python": "3.11",
            "packages": {},
        },
    }


def test_postgraphile_gets_a_row_and_a_ratio_when_it_ran() -> None:
    table = markdown(
        report(
            {
                "ours": numbers(250.0),
                "ours_cached": numbers(3000.0),
                "postgraphile": numbers(1000.0),
                "naive": numbers(25.0),
                "floor": numbers(2000.0),
            }
        )
    )

    rows = [line for line in table.splitlines() if line.startswith("| label of")]
    assert [row.split(" | ")[0] for row in rows] == [
        "| label of ours",
        "| label of ours_cached",
        "| label of postgraphile",
        "| label of naive",
        "| label of floor",
    ]
    assert rows[0].endswith("| 10.0x | 0.125x | 0.250x |")
    assert rows[1].endswith("| 120.0x | 1.500x | 3.000x |")
    assert rows[2].endswith("| 40.0x | 0.500x | 1.000x |")
    assert "- ours / PostGraphile = **0.250x** (target >= 1x): **missed**" in table
    assert "- ours / floor = **0.125x** (target >= 0.12x): met" in table
    assert "- ours / floor, response cache hit = **1.500x** (target >= 1x): met" in table


def test_a_skipped_postgraphile_says_why_and_leaves_its_column_empty() -> None:
    table = markdown(
        report(
            {
                "ours": numbers(250.0),
                "ours_cached": numbers(1000.0),
                "naive": numbers(25.0),
                "floor": numbers(2000.0),
            },
            skipped="Node.js is not installed",
        )
    )

    assert "label of postgraphile" not in table
    assert "| label of ours |" in table
    assert table.splitlines()[2].endswith("| 10.0x | 0.125x | - |")
    assert "- ours / PostGraphile: PostGraphile skipped (Node.js is not installed)" in table


def test_database_cpu_per_request_gets_its_own_column() -> None:
    runs = {
        key: numbers(rps)
        for key, rps in (("ours", 250.0), ("ours_cached", 3000.0), ("naive", 25.0))
    }
    runs["floor"] = {**numbers(2000.0), "database_cpu_ms_per_request": 0.42}

    table = markdown(report(runs)).splitlines()

    assert "| PG CPU/req |" in table[0]
    floor = next(line for line in table if line.startswith("| label of floor"))
    ours = next(line for line in table if line.startswith("| label of ours |"))
    assert "| 1.50 ms | 0.42 ms |" in floor
    assert "| 1.50 ms | - |" in ours  # a run kept before the column existed


def test_database_cpu_counts_the_backends_of_that_database_only() -> None:
    # A process titled like a PostgreSQL backend of one database, burning some CPU.
    title = "postgres: 15/main: postgres agora_probe_db 127.0.0.1(40000) idle"
    busy = "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; sleep 30"
    backend = subprocess.Popen(["bash", "-c", 'exec -a "$0" sh -c "$1"', title, busy])
    try:
        deadline = time.monotonic() + 20
        while sum(database_cpu_seconds("agora_probe_db").values()) < 0.05:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert list(database_cpu_seconds("agora_probe_db")) == [backend.pid]
        assert database_cpu_seconds("agora_probe") == {}  # another name, even a prefix
    finally:
        backend.kill()
        backend.wait()


def test_database_cpu_between_counts_new_backends_whole_and_never_goes_negative() -> None:
    before = {10: 5.0, 11: 7.0}  # 11 ends before the second reading
    after = {10: 5.5, 12: 0.25}  # 12 starts in between

    assert database_cpu_between(before, after) == 0.75
