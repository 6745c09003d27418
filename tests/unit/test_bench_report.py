"""bench/run.py's Markdown table: a PostGraphile row and the ours/PostGraphile ratio beside
ours/naive and ours/floor when PostGraphile ran, and the reason when it was skipped; ours with
the response cache hit in a row of its own, with its own verdict against the floor."""

from __future__ import annotations

from typing import Any

from bench.run import markdown


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
