"""``make bench-subscriptions``: delivery latency of ``postPublished`` to N subscribers.

1. Creates a throwaway database (``agora_bench_realtime`` on 127.0.0.1:5432), applies the
   migrations and creates the publishing user.
2. Starts ONE server process (``python -m server serve``: uvloop, httptools, production
   settings, Redis pub/sub on ``REDIS_URL``, the cost bucket raised so the load measures
   the server, not the rate limiter).
3. This process is the load: it raises its file-descriptor limit, opens N
   graphql-transport-ws connections (asyncio + websockets), anonymous or each logged in
   as its own user (``--viewers distinct``: N users inserted, their tokens signed here), and
   subscribes each to ``postPublished { id title author { name } }`` (``--selection
   viewer``: ``author { name email }``, a field only its owner may read). With
   ``--replicas 2`` two server processes share the database and Redis and the subscribers
   are split between them; events are published on the first.
4. Warm-up: publishes one post and waits until every subscriber has it (so all are live).
5. Publishes E draft posts through the API (``publishPost`` over HTTP), one every
   ``--interval`` seconds, and records for every (event, subscriber) the time from the start
   of the HTTP call to the arrival of the ``next`` message (one monotonic clock: the load
   process sends the mutation and receives the events).
6. Every client checks its sequence: each event exactly once, in order (missing,
   duplicated and out-of-order deliveries are counted and fail the run). Reports latency
   p50/p90/p99/max, the publishPost HTTP time, the servers' RSS before the connections, with
   them (per connection) and after the events (growth per event), their CPU time during
   the events, each event's first and last delivery, and the servers' garbage-collector
   passes during the events (read from their /metrics); then SIGTERMs the servers and
   measures the clean shutdown (every socket closed with 1001).
   Writes bench/results/subscriptions-<run>.json and prints a Markdown table.

Everything targets 127.0.0.1 only, and every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import asyncpg
import httpx
import orjson
import uvloop
import websockets
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import ClientConnection
from websockets.typing import Subprotocol

from bench.run import (
    HOST,
    ROOT,
    BenchError,
    clean_env,
    create_database,
    drop_database,
    free_port,
    machine,
    our_settings,
    run_cli,
)
from core.settings import Settings
from models.user import Role, User
from services.tokens import issue_access_token

RESULTS = ROOT / "bench" / "results"
PROTOCOL = Subprotocol("graphql-transport-ws")
SELECTIONS = {
    "plain": "{ id title author { name } }",
    # ``email`` is visible to the author (and admins) only: the answer depends on the viewer.
    "viewer": "{ id title author { name email } }",
}
CREATE = 'mutation($t: String!) { createPost(input: {title: $t, body: "Benchmark post."}) { id } }'
PUBLISH = "mutation($id: ID!) { publishPost(id: $id) { id } }"
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }"
EMAIL = "bench-publisher@example.com"
PASSWORD = "Bench-publisher-1!"  # noqa: S105 - a throwaway account
TARGET_P99_MS = {"plain": 100.0, "viewer": 500.0}
WARM_UPS = 5
LARGE_RUN = 5000  # subscribers from which the target is the one for 5,000 (p99 ≤ 500 ms)
BENCH_USER_PASSWORD_HASH = "!"  # noqa: S105 - the viewers never log in: tokens are signed here


def log(message: str) -> None:
    print(f"[bench-subscriptions] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between events")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="agora_bench_realtime")
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL") or f"redis://{HOST}:6379/15"
    )
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--profile", action="store_true", help="py-spy the server during events")
    parser.add_argument(
        "--unshared",
        action="store_true",
        help="every subscriber names its operation differently: no two share a stream "
        "(the cost of 1,000 different viewers or selections)",
    )
    parser.add_argument(
        "--viewers",
        choices=["anonymous", "distinct"],
        default="anonymous",
        help="anonymous subscribers, or each logged in as its own user",
    )
    parser.add_argument(
        "--selection",
        choices=sorted(SELECTIONS),
        default="plain",
        help="plain: { id title author { name } }; viewer: author { name email }",
    )
    parser.add_argument(
        "--replicas",
        type=int,
        choices=[1, 2],
        default=1,
        help="server processes behind one Redis; the subscribers are split between them",
    )
    parser.add_argument(
        "--no-compression",
        action="store_true",
        help="clients do not offer permessage-deflate (browsers do, so the default offers it)",
    )
    return parser.parse_args(argv)


def raise_fd_limit(needed: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        soft = min(hard, max(needed, soft))
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    if soft < needed:
        raise BenchError(f"the file-descriptor limit ({soft}) is below the {needed} needed")
    return soft


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise BenchError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def machine_cpu_seconds() -> float:
    """CPU time all processes of the machine used (user + nice + system + irq + softirq)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    busy = sum(int(fields[index]) for index in (0, 1, 2, 5, 6))
    return busy / os.sysconf("SC_CLK_TCK")


class LoopLag:
    """How late this process's event loop wakes up: its stalls delay what it measures."""

    def __init__(self) -> None:
        self.worst_ms = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.01)
            self.worst_ms = max(self.worst_ms, (time.perf_counter() - started - 0.01) * 1000)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


GCBuckets = dict[str, dict[float, float]]  # generation -> upper bound (le) -> passes


async def gc_buckets(http: httpx.AsyncClient, base_url: str, token: str) -> GCBuckets:
    """The server's ``python_gc_pause_seconds`` buckets (cumulative, by generation)."""
    response = await http.get(f"{base_url}/metrics", headers={"Authorization": f"Bearer {token}"})
    response.raise_for_status()
    buckets: GCBuckets = {}
    for family in text_string_to_metric_families(response.text):
        if family.name != "python_gc_pause_seconds":
            continue
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                generation = buckets.setdefault(sample.labels["generation"], {})
                generation[float(sample.labels["le"])] = sample.value
    return buckets


def gc_pauses(before: list[GCBuckets], after: list[GCBuckets]) -> dict[str, dict[str, Any]]:
    """The collector's passes during the events, every server together, by generation:
    how many, and the bucket bounds (ms) their p99 and their longest fall under (the
    histogram keeps buckets, not values: "≤ 5" means between the previous bound and 5)."""
    report: dict[str, dict[str, Any]] = {}
    generations = sorted({g for scrape in after for g in scrape})
    for generation in generations:
        counts: dict[float, float] = {}
        for earlier, later in zip(before, after, strict=True):
            for bound, cumulative in later.get(generation, {}).items():
                counts[bound] = (
                    counts.get(bound, 0) + cumulative - earlier.get(generation, {}).get(bound, 0)
                )
        bounds = sorted(counts)
        total = counts[bounds[-1]] if bounds else 0
        if not total:
            report[generation] = {"passes": 0}
            continue
        p99 = next(bound for bound in bounds if counts[bound] >= 0.99 * total)
        longest = next(bound for bound in bounds if counts[bound] >= total)
        report[generation] = {
            "passes": int(total),
            "p99_ms_at_most": round(p99 * 1000, 1),
            "max_ms_at_most": round(longest * 1000, 1),
        }
    return report


@dataclass
class Subscriber:
    socket: ClientConnection
    replica: int
    received: dict[str, float] = field(default_factory=dict)  # title -> first arrival time
    order: list[str] = field(default_factory=list)  # every title, as it arrived
    closed_code: int | None = None
    completed: bool = False

    async def read(self) -> None:
        try:
            async for raw in self.socket:
                now = time.perf_counter()
                message = orjson.loads(raw)
                kind = message["type"]
                if kind == "next":
                    title = message["payload"]["data"]["postPublished"]["title"]
                    self.received.setdefault(title, now)
                    self.order.append(title)
                elif kind == "complete":
                    self.completed = True
                elif kind == "ping":
                    await self.socket.send('{"type":"pong"}')
                elif kind == "error":
                    raise BenchError(f"subscription refused: {message}")
        except websockets.exceptions.ConnectionClosed:
            pass
        if self.socket.close_code is not None:
            self.closed_code = self.socket.close_code

    def sequence(self, titles: list[str]) -> dict[str, int]:
        """Its events checked against what was published: each once, in order."""
        wanted = set(titles)
        got = [title for title in self.order if title in wanted]
        position = {title: index for index, title in enumerate(titles)}
        return {
            "missing": len(wanted - set(got)),
            "duplicated": len(got) - len(set(got)),
            "out_of_order": sum(
                position[later] < position[earlier] for earlier, later in itertools.pairwise(got)
            ),
        }


async def open_subscriber(
    url: str, compression: str | None, query: str, token: str, replica: int
) -> Subscriber:
    socket = await websockets.connect(
        url,
        subprotocols=[PROTOCOL],
        compression=compression,
        max_queue=None,
        open_timeout=60,
        ping_interval=None,
    )
    init: dict[str, Any] = {"type": "connection_init", "payload": {}}
    if token:
        init["payload"] = {"Authorization": f"Bearer {token}"}
    await socket.send(orjson.dumps(init).decode())
    ack = orjson.loads(await socket.recv())
    if ack["type"] != "connection_ack":
        raise BenchError(f"no connection_ack: {ack}")
    subscribe = {"id": "feed", "type": "subscribe", "payload": {"query": query}}
    await socket.send(orjson.dumps(subscribe).decode())  # a text frame, as the protocol says
    return Subscriber(socket, replica)


async def graphql(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str = ""
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body = response.json()
    if body.get("errors"):
        raise BenchError(f"{query[:40]}…: {body['errors']}")
    return body["data"]


async def wait_all(subscribers: list[Subscriber], title: str, seconds: float) -> int:
    """Wait until every subscriber has ``title``; how many have it at the end."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(title in subscriber.received for subscriber in subscribers):
            break
        await asyncio.sleep(0.05)
    return sum(title in subscriber.received for subscriber in subscribers)


async def viewer_tokens(args: argparse.Namespace, database_url: str, secret: str) -> list[str]:
    """``--viewers distinct``: one user per subscriber, inserted in one statement, and an
    access token for each signed here (the server checks the signature and the row)."""
    if args.viewers != "distinct":
        return [""] * args.subscribers
    connection = await asyncpg.connect(database_url.replace("postgres://", "postgresql://"))
    try:
        rows = await connection.fetch(
            """INSERT INTO users (name, email, password_hash, role, status, balance_cents,
                   token_version, created_at, updated_at)
               SELECT 'Viewer ' || n, 'viewer-' || n || '@example.com', $2, 'USER', 'ACTIVE',
                   0, 0, now(), now()
               FROM generate_series(1, $1) AS n RETURNING id""",
            args.subscribers,
            BENCH_USER_PASSWORD_HASH,
        )
    finally:
        await connection.close()
    settings = Settings(_env_file=None, app_env="test", jwt_secret=secret)
    viewers = [
        cast("User", SimpleNamespace(id=row["id"], role=Role.USER, token_version=0)) for row in rows
    ]
    return [issue_access_token(settings, viewer, uuid.uuid4()) for viewer in viewers]


def subscription_query(args: argparse.Namespace, number: int) -> str:
    name = f"Feed{number}" if args.unshared else "Feed"
    return f"subscription {name} {{ postPublished {SELECTIONS[args.selection]} }}"


async def wait_any(subscribers: list[Subscriber], titles: list[str], seconds: float) -> int:
    """Wait until every subscriber has one of ``titles``; how many have one at the end."""
    deadline = time.monotonic() + seconds
    while True:
        have = sum(any(title in s.received for title in titles) for s in subscribers)
        if have == len(subscribers) or time.monotonic() >= deadline:
            return have
        await asyncio.sleep(0.05)


async def load(
    args: argparse.Namespace,
    base_urls: list[str],
    server_pids: list[int],
    tokens: list[str],
    metrics_token: str,
) -> dict[str, Any]:
    ws_urls = [url.replace("http://", "ws://") + "/graphql" for url in base_urls]
    compression = None if args.no_compression else "deflate"
    replicas = len(base_urls)
    async with httpx.AsyncClient(base_url=base_urls[0], timeout=30) as http:
        token = (await graphql(http, LOGIN, {"e": EMAIL, "p": PASSWORD}))["login"]["accessToken"]
        # Redis pub/sub channels are shared by every database of a Redis server: another
        # run on the same server publishes on the same channel. Titles unique to this run
        # keep its events apart (its subscribers still receive, and the server executes,
        # the other run's events: run alone to measure).
        run = uuid.uuid4().hex[:8]
        warm_ups = [f"{run} warm-up {number}" for number in range(WARM_UPS)]
        titles = ["warm-up"] + [f"{run} event {number}" for number in range(args.events)]
        drafts = {
            title: (await graphql(http, CREATE, {"t": title}, token))["createPost"]["id"]
            for title in warm_ups + titles[1:]
        }
        rss_idle = [rss_bytes(pid) for pid in server_pids]

        log(f"opening {args.subscribers} subscribers on {replicas} replica(s)")
        started = time.perf_counter()
        subscribers: list[Subscriber] = []
        for batch_start in range(0, args.subscribers, 100):
            batch = range(batch_start, min(args.subscribers, batch_start + 100))
            subscribers += await asyncio.gather(
                *(
                    open_subscriber(
                        ws_urls[n % replicas],
                        compression,
                        subscription_query(args, n),
                        tokens[n],
                        n % replicas,
                    )
                    for n in batch
                )
            )
        connect_seconds = time.perf_counter() - started
        readers = [asyncio.create_task(subscriber.read()) for subscriber in subscribers]

        # Warm-up: a subscribe may still be in flight (or its Redis SUBSCRIBE unconfirmed)
        # when a warm-up event is published: publish another until everyone has one.
        for warm_up in warm_ups:
            await graphql(http, PUBLISH, {"id": drafts[warm_up]}, token)
            if await wait_any(subscribers, warm_ups, 15) == len(subscribers):
                break
        for reader in readers:
            if reader.done() and reader.exception() is not None:
                raise BenchError(f"a subscriber failed: {reader.exception()}")
        have = await wait_any(subscribers, warm_ups, 0)
        if have != len(subscribers):
            raise BenchError(f"only {have} of {len(subscribers)} subscribers got a warm-up")
        await asyncio.sleep(1)
        rss_connected = [rss_bytes(pid) for pid in server_pids]
        log(f"{len(subscribers)} subscribers live; publishing {args.events} events")

        # The load process is the measuring instrument: keep its own garbage-collector
        # pauses (1,000 sockets, 60,000 timestamps) out of the latencies it records.
        gc.collect()
        gc.freeze()
        gc.disable()
        gc_before = [await gc_buckets(http, url, metrics_token) for url in base_urls]
        profiler = start_profiler(server_pids[0], args) if args.profile else None
        cpu_before = [cpu_seconds(pid) for pid in server_pids]
        load_cpu_before = cpu_seconds(os.getpid())
        machine_before = machine_cpu_seconds()
        lag = LoopLag()
        lag.start()
        sent: dict[str, float] = {}
        http_ms: list[float] = []
        for title in titles[1:]:
            sent[title] = time.perf_counter()
            await graphql(http, PUBLISH, {"id": drafts[title]}, token)
            http_ms.append((time.perf_counter() - sent[title]) * 1000)
            await asyncio.sleep(args.interval)
        for title in titles[1:]:
            await wait_all(subscribers, title, 10)
        cpu_events = sum(cpu_seconds(pid) for pid in server_pids) - sum(cpu_before)
        load_cpu = cpu_seconds(os.getpid()) - load_cpu_before
        machine_cpu = machine_cpu_seconds() - machine_before
        lag.stop()
        gc_after = [await gc_buckets(http, url, metrics_token) for url in base_urls]
        gc.enable()
        profile_path = stop_profiler(profiler)
        await asyncio.sleep(1)
        rss_after = [rss_bytes(pid) for pid in server_pids]

        sequences = [subscriber.sequence(titles[1:]) for subscriber in subscribers]
        checked = {
            problem: sum(sequence[problem] for sequence in sequences)
            for problem in ("missing", "duplicated", "out_of_order")
        }
        latencies = [
            (subscriber.received[title] - sent[title]) * 1000
            for subscriber in subscribers
            for title in titles[1:]
            if title in subscriber.received
        ]
        by_replica = [
            [
                (s.received[title] - sent[title]) * 1000
                for s in subscribers
                if s.replica == replica
                for title in titles[1:]
                if title in s.received
            ]
            for replica in range(replicas)
        ]
        per_event_first = [
            min(
                (s.received[title] - sent[title]) * 1000 for s in subscribers if title in s.received
            )
            for title in titles[1:]
        ]
        per_event_last = [
            max(
                (s.received[title] - sent[title]) * 1000 for s in subscribers if title in s.received
            )
            for title in titles[1:]
        ]

        # From an event's first delivery to its last: how long its fan-out takes.
        spreads = [
            round(last - first, 1)
            for first, last in zip(per_event_first, per_event_last, strict=True)
        ]

        log("SIGTERM: clean shutdown with the subscribers connected")
        stop_started = time.perf_counter()
        for pid in server_pids:
            os.kill(pid, signal.SIGTERM)
        try:
            async with asyncio.timeout(30):
                await asyncio.gather(*readers)
        except TimeoutError:
            pass
        shutdown_seconds = time.perf_counter() - stop_started
        codes: dict[str, int] = {}
        for subscriber in subscribers:
            key = str(subscriber.closed_code)
            codes[key] = codes.get(key, 0) + 1

    connected_total = sum(rss_connected) - sum(rss_idle)
    return {
        "subscribers": len(subscribers),
        "viewers": args.viewers,
        "selection": args.selection,
        "document": subscription_query(args, 0),
        "replicas": replicas,
        "permessage_deflate": compression is not None,
        "shared": not args.unshared,
        "events": args.events,
        "interval_seconds": args.interval,
        "deliveries": len(latencies),
        "missing_deliveries": checked["missing"],
        "sequence": checked,
        "latency_ms": {
            "p50": round(percentile(latencies, 0.50), 1),
            "p90": round(percentile(latencies, 0.90), 1),
            "p99": round(percentile(latencies, 0.99), 1),
            "max": round(max(latencies), 1),
            "mean": round(statistics.fmean(latencies), 1),
        },
        "p99_ms_by_replica": [round(percentile(values, 0.99), 1) for values in by_replica],
        "last_delivery_per_event_ms": {
            "p50": round(percentile(per_event_last, 0.5), 1),
            "max": round(max(per_event_last), 1),
            "each": [round(value, 1) for value in per_event_last],
        },
        "first_delivery_per_event_ms": [round(value, 1) for value in per_event_first],
        # From an event's first delivery to its last: how long its fan-out takes.
        "spread_per_event_ms": {"p50": round(percentile(spreads, 0.5), 1), "max": max(spreads)},
        "server_gc_pauses": gc_pauses(gc_before, gc_after),
        "publish_http_ms": {
            "p50": round(percentile(http_ms, 0.5), 1),
            "p99": round(percentile(http_ms, 0.99), 1),
        },
        "server_cpu_ms_per_event": round(cpu_events * 1000 / args.events, 1),
        "server_cpu_us_per_delivery": round(cpu_events * 1e6 / max(1, len(latencies)), 1),
        "load_process_cpu_ms_per_event": round(load_cpu * 1000 / args.events, 1),
        "other_processes_cpu_ms_per_event": round(
            (machine_cpu - cpu_events - load_cpu) * 1000 / args.events, 1
        ),
        "load_process_worst_loop_lag_ms": round(lag.worst_ms, 1),
        "connect_seconds": round(connect_seconds, 2),
        "rss_mb": {
            "idle": [round(value / 2**20, 1) for value in rss_idle],
            "connected": [round(value / 2**20, 1) for value in rss_connected],
            "after_events": [round(value / 2**20, 1) for value in rss_after],
            "per_connection_kb": round(connected_total / len(subscribers) / 1024, 1),
            "growth_per_event_kb": round(
                (sum(rss_after) - sum(rss_connected)) / args.events / 1024, 1
            ),
        },
        "shutdown": {
            "seconds": round(shutdown_seconds, 2),
            "close_codes": codes,
            "completed": sum(subscriber.completed for subscriber in subscribers),
        },
        "profile": str(profile_path) if profile_path else None,
    }


def start_profiler(
    pid: int, args: argparse.Namespace
) -> tuple[subprocess.Popen[bytes], Path] | None:
    from bench.run import find_py_spy

    py_spy = find_py_spy()
    if py_spy is None:
        log("py-spy not found: no profile")
        return None
    RESULTS.mkdir(parents=True, exist_ok=True)
    output = RESULTS / "subscriptions-profile.txt"
    seconds = int(args.events * args.interval) + 5
    process = subprocess.Popen(
        [
            py_spy,
            "record",
            "--pid",
            str(pid),
            "--format",
            "raw",
            "--duration",
            str(seconds),
            "--rate",
            "200",
            "--output",
            str(output),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return process, output


def stop_profiler(profiler: tuple[subprocess.Popen[bytes], Path] | None) -> Path | None:
    if profiler is None:
        return None
    process, output = profiler
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
    return output if output.exists() else None


def target_p99_ms(result: dict[str, Any]) -> float:
    if result["subscribers"] >= LARGE_RUN:
        return 500.0
    return TARGET_P99_MS[result["selection"]]


def markdown(report: dict[str, Any]) -> str:
    r = report["result"]
    latency = r["latency_ms"]
    target = target_p99_ms(r)
    verdict = "met" if passed(r) else "MISSED"
    sequence = r["sequence"]
    return "\n".join(
        [
            f"`{r['document']}`: {r['viewers']} viewers, {r['replicas']} replica(s)",
            "",
            "| subscribers | events | deliveries | p50 | p90 | p99 | max | "
            f"target p99 ≤ {target:.0f} ms, none lost |",
            "|---|---|---|---|---|---|---|---|",
            f"| {r['subscribers']} | {r['events']} (every {r['interval_seconds']} s) | "
            f"{r['deliveries']} ({sequence['missing']} missing, {sequence['duplicated']} "
            f"duplicated, {sequence['out_of_order']} out of order) | {latency['p50']} ms | "
            f"{latency['p90']} ms | {latency['p99']} ms | {latency['max']} ms | {verdict} |",
            "",
            f"- p99 per replica: {r['p99_ms_by_replica']} ms",
            f"- publishPost over HTTP: p50 {r['publish_http_ms']['p50']} ms, "
            f"p99 {r['publish_http_ms']['p99']} ms",
            f"- first subscriber of an event: median "
            f"{round(percentile(r['first_delivery_per_event_ms'], 0.5), 1)} ms; last: median "
            f"{r['last_delivery_per_event_ms']['p50']} ms, "
            f"worst {r['last_delivery_per_event_ms']['max']} ms; first to last: median "
            f"{r['spread_per_event_ms']['p50']} ms, worst {r['spread_per_event_ms']['max']} ms",
            "- server GC passes during the events (from its `python_gc_pause_seconds`): "
            + "; ".join(
                f"gen {generation}: {pauses['passes']}"
                + (
                    f", p99 ≤ {pauses['p99_ms_at_most']} ms, longest ≤ "
                    f"{pauses['max_ms_at_most']} ms"
                    if pauses["passes"]
                    else ""
                )
                for generation, pauses in r["server_gc_pauses"].items()
            ),
            f"- server CPU: {r['server_cpu_ms_per_event']} ms per event, "
            f"{r['server_cpu_us_per_delivery']} µs per delivery; load process "
            f"{r['load_process_cpu_ms_per_event']} ms per event (worst loop lag "
            f"{r['load_process_worst_loop_lag_ms']} ms); everything else on the machine "
            f"{r['other_processes_cpu_ms_per_event']} ms per event",
            f"- server RSS: {r['rss_mb']['idle']} MB idle, {r['rss_mb']['connected']} MB with "
            f"{r['subscribers']} subscribers "
            f"({r['rss_mb']['per_connection_kb']} KB per connection), "
            f"{r['rss_mb']['after_events']} MB after the events "
            f"({r['rss_mb']['growth_per_event_kb']} KB per event)",
            f"- SIGTERM with everyone connected: closed in {r['shutdown']['seconds']} s, close "
            f"codes {r['shutdown']['close_codes']}, {r['shutdown']['completed']} got `complete`",
        ]
    )


def passed(result: dict[str, Any]) -> bool:
    sequence = result["sequence"]
    return result["latency_ms"]["p99"] <= target_p99_ms(result) and not any(sequence.values())


def start_server(env: dict[str, str], log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with log_path.open("wb") as server_log:
        server = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=server_log,
            stderr=subprocess.STDOUT,
        )
    return server, f"http://{HOST}:{port}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    limit = raise_fd_limit(args.subscribers + 256)
    log(f"file-descriptor limit {limit}")
    database_url = f"{args.pg.replace('postgresql://', 'postgres://')}/{args.database}"
    create_database(args.pg, args.database)
    env = clean_env(**our_settings(database_url))
    env.update(
        {
            "REDIS_URL": args.redis_url,
            "JOB_BACKEND": "inprocess",
            "LOG_LEVEL": "WARNING",
            "WS_MAX_CONNECTIONS_PER_USER": "10",
            # Every anonymous client of the load comes from 127.0.0.1.
            "WS_MAX_ANONYMOUS_CONNECTIONS_PER_IP": str(args.subscribers + 100),
        }
    )
    servers: list[subprocess.Popen[bytes]] = []
    RESULTS.mkdir(parents=True, exist_ok=True)
    run = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        run_cli(env, "migrate")
        run_cli(env, "create-user", "--name", "Publisher", "--email", EMAIL, "--password", PASSWORD)
        tokens = asyncio.run(viewer_tokens(args, database_url, env["JWT_SECRET"]))
        base_urls = []
        for replica in range(args.replicas):
            log_path = RESULTS / f"subscriptions-{run}.server{replica}.log"
            server, base_url = start_server(env, log_path)
            servers.append(server)
            base_urls.append(base_url)
        for server, base_url in zip(servers, base_urls, strict=True):
            wait_ready(base_url, server)
        result = uvloop.run(
            load(
                args,
                base_urls,
                [server.pid for server in servers],
                tokens,
                env["METRICS_TOKEN"],
            )
        )
        for server in servers:
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                log("a server did not stop within 30 s of SIGTERM")
        report = {"run": run, "machine": machine(), "result": result}
        path = RESULTS / f"subscriptions-{run}.json"
        path.write_text(json.dumps(report, indent=2) + "\n")
        print(markdown(report))
        log(f"report: {path}")
        return 0 if passed(result) else 1
    finally:
        for server in servers:
            if server.poll() is None:
                server.kill()
                server.wait()
        if not args.keep_database:
            drop_database(args.pg, args.database)


def wait_ready(base_url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError("the server exited; see its log in bench/results/")
        try:
            if httpx.get(f"{base_url}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise BenchError("the server did not become ready")


if __name__ == "__main__":
    raise SystemExit(main())
