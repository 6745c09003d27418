"""``make bench``: our server against two references, on the same PostgreSQL tables.

1. Creates a throwaway database (``agora_bench`` on 127.0.0.1:5432, user postgres), applies
   the migrations and runs ``seed --scale N`` (10,000 posts, ~50,000 comments).
2. Starts five servers, each ONE process (uvicorn with uvloop and httptools, or Node):
   - ours: ``python -m server serve`` with production settings (dummy secrets, a
     never-contacted SMTP host, the cost bucket raised so it does not throttle the load);
   - ours, response cache hit: the same with ``RESPONSE_CACHE_ENABLED=true`` (the page is
     PUBLIC for 30 s, so all but about one request per 30 s are hits; checked to be one);
   - PostGraphile 4.14.1 (bench/postgraphile/server.js), its schema inferred from the same
     tables, answering the equivalent query (bench.queries.POSTGRAPHILE_QUERY); installed with
     ``npm ci`` from the committed lockfile when missing, skipped (and said so) without Node;
   - naive: bench/naive_app.py, Strawberry + Tortoise with a query per parent (N+1);
   - floor: bench/floor_app.py, Starlette + asyncpg + orjson, five batched statements.
3. Checks that ours (cached and not), naive and floor answer the benchmark query with the same
   JSON ``data``,
   and PostGraphile with the same titles, names, counts and comments in the same order
   (bench/answers.py reduces both shapes to the same values).
4. For each: a short warm-up, then ``wrk`` (32 connections, 15 s) with bench/nested_query.lua;
   fails when any response was not 2xx, timed out or was cut off.
5. Profiles our server under the same load with ``py-spy record`` and summarises it.
6. Writes everything to bench/results/<run>/ (and bench/results/latest), prints the Markdown
   table, stops the servers and drops the database.

Everything targets 127.0.0.1 only, and every load run is bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import Any

import asyncpg

from bench.answers import (
    AnswerShapeError,
    FeedPost,
    feed_from_ours,
    feed_from_postgraphile,
    first_difference,
)
from bench.profile_summary import summarise
from bench.queries import NESTED_QUERY, POOL_MAX, POSTGRAPHILE_QUERY
from core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
LUA_SCRIPT = ROOT / "bench" / "nested_query.lua"
POSTGRAPHILE_DIR = ROOT / "bench" / "postgraphile"
HOST = "127.0.0.1"
TARGET_VS_NAIVE = 10.0
TARGET_VS_FLOOR = 0.12
TARGET_VS_POSTGRAPHILE = 1.0
# Ours again with the response cache on: every timed request of the same page is a hit.
CACHED = "ours_cached"
TARGET_CACHED_VS_FLOOR = 1.0
PACKAGES = (
    "strawberry-graphql",
    "graphql-core",
    "tortoise-orm",
    "asyncpg",
    "starlette",
    "uvicorn",
    "uvloop",
    "httptools",
    "orjson",
)


class BenchError(Exception):
    """The benchmark cannot produce honest numbers; the message says why."""


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


# --- set-up -------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=10_000, help="posts to seed")
    parser.add_argument("--duration", type=int, default=15, help="seconds of each wrk run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up before each")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--profile-seconds", type=int, default=10, help="0 skips the profile")
    parser.add_argument("--pg", default=f"postgres://postgres@{HOST}:5432", help="server URL")
    parser.add_argument("--database", default="agora_bench", help="throwaway database name")
    parser.add_argument("--keep-database", action="store_true", help="do not drop it at the end")
    parser.add_argument(
        "--tracing",
        action="store_true",
        help="also run ours with tracing on, sampled at 1%% and 100%%, exporting over "
        "OTLP/HTTP to a local sink (bench/otlp_sink.py)",
    )
    args = parser.parse_args(argv)
    if not args.database.replace("_", "").isalnum():
        parser.error("--database must be letters, digits and underscores")
    return args


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    log("wrk is missing: installing Debian's package (apt-get install wrk)")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "wrk"],
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
    found = shutil.which("wrk")
    if not found:
        raise BenchError("wrk could not be installed")
    return found


@dataclass
class NodeReference:
    """PostGraphile ready to start (``node`` set), or why it is skipped this run."""

    node: str | None
    skipped: str = ""


def ensure_postgraphile() -> NodeReference:
    """Node and PostGraphile from bench/postgraphile (``npm ci`` from the committed lockfile
    when node_modules is missing). Without Node or npm, or when the install fails, the run
    goes on without PostGraphile and says why."""
    node = shutil.which("node")
    if node is None:
        return NodeReference(None, "Node.js is not installed (`node` is not on PATH)")
    if not (POSTGRAPHILE_DIR / "node_modules" / "postgraphile" / "package.json").exists():
        npm = shutil.which("npm")
        if npm is None:
            return NodeReference(None, "npm is not installed, so PostGraphile cannot be")
        log("PostGraphile is missing: npm ci --prefix bench/postgraphile")
        result = subprocess.run(
            [npm, "ci", "--prefix", str(POSTGRAPHILE_DIR), "--no-audit", "--no-fund"],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode != 0:
            return NodeReference(None, f"npm ci failed: {(result.stdout + result.stderr)[-500:]}")
    return NodeReference(node)


def postgraphile_version() -> str:
    try:
        package = POSTGRAPHILE_DIR / "node_modules" / "postgraphile" / "package.json"
        return str(json.loads(package.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return "-"


def node_version(node: str | None) -> str:
    if node is None:
        return "-"
    result = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
    return result.stdout.strip().removeprefix("v") or "-"


def find_py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


async def _admin(pg: str, *statements: str) -> None:
    connection = await asyncpg.connect(f"{pg}/postgres")
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def create_database(pg: str, name: str) -> None:
    asyncio.run(
        _admin(pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    )


def drop_database(pg: str, name: str) -> None:
    asyncio.run(_admin(pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _transactions(url: str, database: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        value = await connection.fetchval(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1",
            database,
        )
        return int(value)
    finally:
        await connection.close()


def transactions(args: argparse.Namespace) -> int:
    """Transactions the benchmark database has seen. Every statement sent outside a
    transaction is one, and the drivers add theirs (asyncpg's pool runs a reset on every
    release, and Tortoise takes a pool connection per statement), so per request this counts
    round trips rather than exactly statements. Approximate: PostgreSQL flushes these
    counters about once a second."""
    return asyncio.run(_transactions(f"{args.pg}/postgres", args.database))


async def _postgres_version(url: str) -> str:
    connection = await asyncpg.connect(url)
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without any Agora setting (nothing leaks in from the
    developer's shell), plus ``settings``."""
    names = {name.upper() for name in Settings.model_fields}
    env = {key: value for key, value in os.environ.items() if key.upper() not in names}
    env["PYTHONPATH"] = str(ROOT)
    env.update(settings)
    return env


def our_settings(database_url: str) -> dict[str, str]:
    """Production settings; the secrets are random per run and the SMTP host is never
    contacted (the benchmark sends no mail). The cost bucket is raised so that the load
    measures the server, not the rate limiter."""
    return {
        "APP_ENV": "production",
        "DATABASE_URL": database_url,
        "JWT_SECRET": secrets.token_urlsafe(48),
        "REFRESH_TOKEN_SECRET": secrets.token_urlsafe(48),
        "METRICS_TOKEN": secrets.token_urlsafe(48),
        "SMTP_HOST": HOST,
        "SMTP_PORT": "2525",
        "CORS_ALLOWED_ORIGINS": f"http://{HOST}",
        "RATE_LIMIT_CAPACITY": "1000000000",
        "RATE_LIMIT_RESTORE_RATE": "1000000000",
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "json",
    }


def run_cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "server", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise BenchError(f"`server {' '.join(args)}` failed:\n{result.stdout}{result.stderr}")
    return result.stdout.strip()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


# --- servers ------------------------------------------------------------------------------


@dataclass
class Server:
    key: str
    label: str
    argv: list[str]
    env: dict[str, str]
    health: str
    query: str = NESTED_QUERY
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/graphql"

    def body(self, run_dir: Path) -> Path:
        """The request body file wrk posts to this server (written by main)."""
        suffix = "" if self.query == NESTED_QUERY else f"_{self.key}"
        return run_dir / f"request{suffix}.json"

    def feed(self, data: Any) -> list[FeedPost]:
        if self.query == POSTGRAPHILE_QUERY:
            return feed_from_postgraphile(data)
        return feed_from_ours(data)

    def start(self, run_dir: Path) -> None:
        argv = [part.replace("{port}", str(self.port)) for part in self.argv]
        log_file = (run_dir / f"server_{self.key}.log").open("wb")
        self.process = subprocess.Popen(
            argv, cwd=run_dir, env=self.env, stdout=log_file, stderr=subprocess.STDOUT
        )
        log_file.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"{self.key} exited; see {run_dir}/server_{self.key}.log")
            try:
                with urllib.request.urlopen(f"http://{HOST}:{self.port}{self.health}", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        raise BenchError(f"{self.key} did not become ready on port {self.port}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_otlp_sink(run_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The OTLP/HTTP receiver the traced runs export to (its own process: its CPU is not
    counted as the server's); its log says how many spans it received."""
    port = free_port()
    log_file = (run_dir / "otlp_sink.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.otlp_sink", str(port)],
        cwd=ROOT,
        env=clean_env(),
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    log_file.close()
    return process, f"http://{HOST}:{port}"


def uvicorn_argv(app: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        HOST,
        "--port",
        "{port}",
        "--workers",
        "1",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def postgraphile_server(database_url: str, node: str) -> Server:
    return Server(
        "postgraphile",
        "PostGraphile 4.14.1 (Node, one process, schema inferred from the tables)",
        [node, str(POSTGRAPHILE_DIR / "server.js"), "{port}"],
        {
            **clean_env(BENCH_DATABASE_URL=database_url, POOL_MAX=str(POOL_MAX)),
            "NODE_ENV": "production",
        },
        "/health",
        query=POSTGRAPHILE_QUERY,
    )


# Ours with tracing on: sampled at these percentages (parent-based, by trace id ratio).
TRACED_PERCENTAGES = (1, 100)


def traced_settings(sink_url: str, percentage: int) -> dict[str, str]:
    return {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": sink_url,
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": str(percentage / 100),
        "OTEL_SERVICE_NAME": "agora-bench",
    }


def traced_key(percentage: int) -> str:
    return f"ours_traced_{percentage}"


def build_servers(
    database_url: str, node: str | None, otlp_sink: str | None = None
) -> list[Server]:
    """Ours (and, with ``otlp_sink``, ours traced at each of ``TRACED_PERCENTAGES``),
    PostGraphile (when ``node`` is set), naive and floor, in the order they run."""
    reference_env = clean_env(BENCH_DATABASE_URL=database_url)
    ours_argv = [sys.executable, "-m", "server", "serve", "--host", HOST, "--port", "{port}"]
    servers = [
        Server(
            "ours",
            "Agora (Strawberry + Tortoise, level-at-a-time loaders, production settings)",
            ours_argv,
            clean_env(**our_settings(database_url)),
            "/health/live",
        ),
        Server(
            CACHED,
            "ours, response cache hit (the same server with RESPONSE_CACHE_ENABLED=true)",
            ours_argv,
            clean_env(**our_settings(database_url), RESPONSE_CACHE_ENABLED="true"),
            "/health/live",
        ),
    ]
    if otlp_sink is not None:
        servers += [
            Server(
                traced_key(percentage),
                f"Agora, tracing on, {percentage}% of requests sampled (OTLP/HTTP to a local sink)",
                ours_argv,
                clean_env(**our_settings(database_url), **traced_settings(otlp_sink, percentage)),
                "/health/live",
            )
            for percentage in TRACED_PERCENTAGES
        ]
    if node is not None:
        servers.append(postgraphile_server(database_url, node))
    return [
        *servers,
        Server(
            "naive",
            "naive Strawberry + Tortoise, a query per parent (N+1)",
            uvicorn_argv("bench.naive_app:app"),
            reference_env,
            "/health",
        ),
        Server(
            "floor",
            "Starlette + asyncpg + orjson, 5 batched statements (the floor)",
            uvicorn_argv("bench.floor_app:app"),
            reference_env,
            "/health",
        ),
    ]


def post_query(url: str, body: bytes) -> Any:
    request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise BenchError(f"{url} answered {exc.code}: {exc.read()[:500]!r}") from exc


def check_same_data(servers: list[Server], run_dir: Path) -> dict[str, Any]:
    """The same JSON ``data`` from every server that answers our query, with the expected
    shape, and the same posts, names, counts and comments, in order, from every server (the
    one PostGraphile answers its own query's shape); returns ours."""
    answers = {
        server.key: post_query(server.url, server.body(run_dir).read_bytes()) for server in servers
    }
    cached = next((server for server in servers if server.key == CACHED), None)
    if cached is not None:
        # Its first answer may be the miss that fills the cache: the one compared is a hit.
        answers[CACHED] = post_query(cached.url, cached.body(run_dir).read_bytes())
        if answers[CACHED].get("extensions", {}).get("responseCache") != {"hit": True}:
            raise BenchError(f"{CACHED}: the answer was not a response cache hit (see {run_dir})")
    for key, answer in answers.items():
        (run_dir / f"first_page_{key}.json").write_text(json.dumps(answer, indent=1))
        if answer.get("errors") or "data" not in answer:
            raise BenchError(f"{key} answered with errors: {json.dumps(answer)[:500]}")
    reference = answers["ours"]["data"]
    edges = reference["posts"]["edges"]
    if len(edges) != 20 or not all(len(edge["node"]["comments"]["edges"]) <= 5 for edge in edges):
        raise BenchError("ours: the first page does not have the expected shape")
    expected = feed_from_ours(reference)
    for server in servers:
        data = answers[server.key]["data"]
        if server.query == NESTED_QUERY and data != reference:
            raise BenchError(f"{server.key} does not return the same data as ours (see {run_dir})")
        try:
            difference = first_difference(expected, server.feed(data))
        except AnswerShapeError as exc:
            raise BenchError(f"{server.key}: {exc} (see {run_dir})") from exc
        if difference is not None:
            raise BenchError(f"{server.key} differs from ours: {difference} (see {run_dir})")
    return dict(reference)


# --- load ---------------------------------------------------------------------------------


def wrk_argv(wrk: str, args: argparse.Namespace, url: str, seconds: int, body: Path) -> list[str]:
    return [
        wrk,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        "--latency",
        "-s",
        str(LUA_SCRIPT),
        url,
        "--",
        str(body),
    ]


def run_wrk(argv: list[str], seconds: int, output: Path | None = None) -> dict[str, Any]:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if output is not None:
        output.write_text(result.stdout + result.stderr)
    lines = [line for line in result.stdout.splitlines() if line.startswith("BENCH_JSON ")]
    if result.returncode != 0 or not lines:
        raise BenchError(f"wrk failed: {result.stdout}{result.stderr}")
    numbers: dict[str, Any] = json.loads(lines[-1].removeprefix("BENCH_JSON "))
    numbers["rps"] = numbers["requests"] / (numbers["duration_us"] / 1e6)
    # Non-2xx answers, timeouts, and connections the server dropped.
    numbers["failed"] = sum(numbers["errors"].values())
    return numbers


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_cpu_seconds(database: str) -> dict[int, float]:
    """User + system CPU time so far of each PostgreSQL backend connected to ``database``, by
    process id (a backend's process title names its database: ``postgres: 15/main: postgres
    agora_bench 127.0.0.1(41234) idle``). Work a server hands to PostgreSQL (PostGraphile
    builds its whole JSON answer there) is not in the server process's own CPU time."""
    marker = f" {database} ".encode()
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes()
            if title.startswith(b"postgres: ") and marker in title:
                found[int(entry.name)] = cpu_seconds(int(entry.name))
        except OSError:  # the process ended, or is not ours to read
            continue
    return found


def database_cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    """The CPU time the backends spent between two readings: a backend that started in
    between counts whole, one that ended in between is lost (so this can only undercount)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def load_average() -> float:
    return os.getloadavg()[0]


def measure(server: Server, wrk: str, args: argparse.Namespace, run_dir: Path) -> dict[str, Any]:
    """One wrk run after a warm-up, plus the CPU time the server process spent on it: CPU
    per request hardly depends on what else the machine runs, req/s does."""
    assert server.process is not None
    body = server.body(run_dir)
    if args.warmup:
        run_wrk(wrk_argv(wrk, args, server.url, args.warmup, body), args.warmup)
    log(f"{server.key}: {args.duration} s at {args.connections} connections")
    time.sleep(1.5)  # let PostgreSQL flush the warm-up's statistics
    load_before = load_average()
    transactions_before = transactions(args)
    cpu_before = cpu_seconds(server.process.pid)
    database_cpu_before = database_cpu_seconds(args.database)
    numbers = run_wrk(
        wrk_argv(wrk, args, server.url, args.duration, body),
        args.duration,
        run_dir / f"wrk_{server.key}.txt",
    )
    cpu = cpu_seconds(server.process.pid) - cpu_before
    database_cpu = database_cpu_between(database_cpu_before, database_cpu_seconds(args.database))
    time.sleep(1.5)
    numbers["transactions_per_request"] = (transactions(args) - transactions_before) / max(
        1, numbers["requests"]
    )
    numbers["server_cpu_seconds"] = cpu
    numbers["server_cpu_ms_per_request"] = 1000 * cpu / max(1, numbers["requests"])
    numbers["database_cpu_ms_per_request"] = 1000 * database_cpu / max(1, numbers["requests"])
    numbers["server_cpu_share"] = cpu / (numbers["duration_us"] / 1e6)
    numbers["load_average_before"] = load_before
    numbers["load_average_after"] = load_average()
    log(
        f"{server.key}: {numbers['rps']:.1f} req/s, p50 {numbers['latency_us']['p50'] / 1000:.1f}"
        f" ms, p99 {numbers['latency_us']['p99'] / 1000:.1f} ms, "
        f"{numbers['server_cpu_ms_per_request']:.2f} ms CPU/request "
        f"(+ {numbers['database_cpu_ms_per_request']:.2f} ms in PostgreSQL), "
        f"~{numbers['transactions_per_request']:.0f} PostgreSQL transactions/request "
        f"(server busy {numbers['server_cpu_share']:.0%}), failed {numbers['failed']}"
    )
    return numbers


def profile(
    server: Server,
    py_spy: str,
    wrk: str,
    args: argparse.Namespace,
    run_dir: Path,
) -> str:
    """py-spy samples our server (100 Hz) while wrk drives the same load; returns the
    summary in Markdown (raw stacks kept as profile_ours.collapsed for flame graphs)."""
    assert server.process is not None
    body = server.body(run_dir)
    collapsed = run_dir / "profile_ours.collapsed"
    log(f"ours: profiling {args.profile_seconds} s under load with py-spy")
    load = subprocess.Popen(
        wrk_argv(wrk, args, server.url, args.profile_seconds + 4, body),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(2)
        result = subprocess.run(
            [
                py_spy,
                "record",
                "--pid",
                str(server.process.pid),
                "--duration",
                str(args.profile_seconds),
                "--rate",
                "100",
                "--format",
                "raw",
                "--output",
                str(collapsed),
            ],
            capture_output=True,
            text=True,
            timeout=args.profile_seconds + 60,
            check=False,
        )
    finally:
        load.wait(timeout=args.profile_seconds + 60)
    if result.returncode != 0 or not collapsed.exists():
        return f"(py-spy failed: {result.stderr.strip()[:500]})"
    expected = args.profile_seconds * 100
    summary = summarise(collapsed.read_text())
    busy = min(1.0, summary.samples / expected)
    text = (
        f"py-spy, {args.profile_seconds} s at 100 Hz under the same load: {summary.samples} "
        f"samples of {expected} possible, so the process was on the CPU ~{busy:.0%} of the "
        "time (it is CPU-bound when this is near 100%).\n\n" + summary.markdown()
    )
    (run_dir / "profile_ours.md").write_text(text + "\n")
    return text


# --- report -------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = "unknown"
    memory = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in PACKAGES},
    }


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "-"


def git_revision() -> str:
    result = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or "unknown"


def _ratio(numbers: dict[str, Any], reference: dict[str, Any] | None, digits: int) -> str:
    if reference is None or not reference["rps"]:
        return "-"
    return f"{numbers['rps'] / reference['rps']:.{digits}f}x"


def _database_cpu(numbers: dict[str, Any]) -> str:
    value = numbers.get("database_cpu_ms_per_request")  # absent from runs before it was kept
    return "-" if value is None else f"{value:.2f} ms"


def _rps_ratio(numbers: dict[str, Any], reference: dict[str, Any]) -> float:
    """A reference that answered nothing in time (the N+1 baseline on a short run) makes
    the ratio infinite rather than the report fail."""
    return numbers["rps"] / reference["rps"] if reference["rps"] else math.inf


def _verdict(name: str, ratio: float, target: float, digits: int) -> str:
    met = "met" if ratio >= target else "**missed**"
    return f"- ours / {name} = **{ratio:.{digits}f}x** (target >= {target:g}x): {met}"


def markdown(report: dict[str, Any]) -> str:
    runs = report["runs"]
    lines = [
        "| implementation | req/s | p50 | p99 | failed | server CPU/req | PG CPU/req "
        "| PG xacts/req | vs naive | vs floor | vs PostGraphile |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    traced = tuple(traced_key(percentage) for percentage in TRACED_PERCENTAGES)
    for key in ("ours", CACHED, *traced, "postgraphile", "naive", "floor"):
        if key not in runs:
            continue
        numbers = runs[key]
        latency = numbers["latency_us"]
        lines.append(
            f"| {report['labels'][key]} | {numbers['rps']:,.1f} | {latency['p50'] / 1000:,.1f} ms"
            f" | {latency['p99'] / 1000:,.1f} ms | {numbers['failed']} "
            f"| {numbers['server_cpu_ms_per_request']:.2f} ms "
            f"| {_database_cpu(numbers)} "
            f"| ~{numbers['transactions_per_request']:.0f} "
            f"| {_ratio(numbers, runs['naive'], 1)} "
            f"| {_ratio(numbers, runs['floor'], 3)} "
            f"| {_ratio(numbers, runs.get('postgraphile'), 3)} |"
        )
    ratios = report["ratios"]
    verdict = [
        "",
        _verdict("naive", ratios["ours_vs_naive"], TARGET_VS_NAIVE, 1),
        _verdict("floor", ratios["ours_vs_floor"], TARGET_VS_FLOOR, 3),
        _verdict(
            "floor, response cache hit", ratios["ours_cached_vs_floor"], TARGET_CACHED_VS_FLOOR, 3
        ),
        _verdict("PostGraphile", ratios["ours_vs_postgraphile"], TARGET_VS_POSTGRAPHILE, 3)
        if ratios["ours_vs_postgraphile"] is not None
        else f"- ours / PostGraphile: PostGraphile skipped ({report['postgraphile']['skipped']})",
    ]
    setup = report["setup"]
    box = report["machine"]
    context = [
        "",
        f"Query: `{NESTED_QUERY}`"
        + (f"; PostGraphile's equivalent: `{POSTGRAPHILE_QUERY}`" if "postgraphile" in runs else "")
        + ".",
        f"Data: `seed --scale {setup['scale']}` ({setup['seeded']}), seeded in "
        f"{setup['seed_seconds']:.1f} s.",
        f"Load: wrk {setup['wrk']}, {setup['threads']} threads, {setup['connections']} "
        f"connections, {setup['duration']} s per run after {setup['warmup']} s of warm-up; "
        "one process per implementation (uvicorn with uvloop and httptools; Node for "
        "PostGraphile), each with a pool of at most "
        f"{POOL_MAX} connections; PostgreSQL "
        f"{setup['postgres']} and wrk on the same machine. Load average (1 min) before each "
        "run: "
        + ", ".join(f"{key} {runs[key]['load_average_before']:.1f}" for key in runs)
        + f" on {report['machine']['cores']} cores (other work on the machine lowers req/s; "
        "CPU/request is the server process's own user+system time per answered request, "
        "PG CPU/req that of the PostgreSQL backends serving it; "
        "PG xacts/req counts PostgreSQL transactions per request, approximately: each "
        "statement outside a transaction is one, plus the drivers' own, e.g. asyncpg's reset "
        "when a pooled connection is released).",
        f"Machine: {box['cores']} cores ({box['cpu']}), {box['memory']}, Python {box['python']}; "
        + ", ".join(f"{name} {version}" for name, version in box["packages"].items())
        + f"; Node {report['postgraphile']['node']}, "
        f"postgraphile {report['postgraphile']['version']}"
        + f". Code: {report['revision']}, {report['started']}.",
    ]
    return "\n".join(lines + verdict + context)


# --- main ---------------------------------------------------------------------------------


def _stop_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    started = datetime.now(UTC)
    run_dir = RESULTS / started.strftime("run-%Y%m%dT%H%M%SZ")
    run_dir.mkdir(parents=True)
    latest = RESULTS / "latest"
    latest.unlink(missing_ok=True)
    latest.symlink_to(run_dir.name)

    wrk = ensure_wrk()
    py_spy = find_py_spy() if args.profile_seconds else None
    if args.profile_seconds and py_spy is None:
        log("py-spy is missing (pip install -e '.[bench]'): no profile this run")
    database_url = f"{args.pg}/{args.database}"
    reference = ensure_postgraphile()
    if reference.skipped:
        log(f"PostGraphile skipped: {reference.skipped}")
    sink = start_otlp_sink(run_dir) if args.tracing else None
    servers = build_servers(database_url, reference.node, sink[1] if sink else None)
    for server in servers:
        server.body(run_dir).write_bytes(json.dumps({"query": server.query}).encode())
    ours = servers[0]

    log(f"creating the database {args.database}")
    create_database(args.pg, args.database)
    try:
        env = clean_env(DATABASE_URL=database_url, LOG_LEVEL="WARNING")
        run_cli(env, "migrate")
        log(f"seed --scale {args.scale}")
        seed_started = time.monotonic()
        seeded = run_cli(env, "seed", "--scale", str(args.scale))
        seed_seconds = time.monotonic() - seed_started
        log(f"{seeded} ({seed_seconds:.1f} s)")
        for server in servers:
            server.start(run_dir)
        check_same_data(servers, run_dir)
        log(f"all {len(servers)} answer with the same data")

        runs = {server.key: measure(server, wrk, args, run_dir) for server in servers}
        check_same_data(servers, run_dir)
        profile_text = (
            profile(ours, py_spy, wrk, args, run_dir) if py_spy is not None else "(no profile)"
        )
        report: dict[str, Any] = {
            "started": started.isoformat(timespec="seconds"),
            "revision": git_revision(),
            "labels": {server.key: server.label for server in servers},
            "runs": runs,
            "ratios": {
                "ours_vs_naive": _rps_ratio(runs["ours"], runs["naive"]),
                "ours_vs_floor": _rps_ratio(runs["ours"], runs["floor"]),
                "ours_cached_vs_floor": _rps_ratio(runs[CACHED], runs["floor"]),
                "ours_vs_postgraphile": (
                    runs["ours"]["rps"] / runs["postgraphile"]["rps"]
                    if "postgraphile" in runs
                    else None
                ),
            },
            "targets": {
                "ours_vs_naive": TARGET_VS_NAIVE,
                "ours_vs_floor": TARGET_VS_FLOOR,
                "ours_cached_vs_floor": TARGET_CACHED_VS_FLOOR,
                "ours_vs_postgraphile": TARGET_VS_POSTGRAPHILE,
            },
            "postgraphile": {
                "measured": "postgraphile" in runs,
                "skipped": reference.skipped or None,
                "version": postgraphile_version() if reference.node else "-",
                "node": node_version(reference.node),
                "query": POSTGRAPHILE_QUERY,
            },
            "setup": {
                "scale": args.scale,
                "seeded": seeded.removeprefix("seeded "),
                "seed_seconds": seed_seconds,
                "duration": args.duration,
                "warmup": args.warmup,
                "connections": args.connections,
                "threads": args.threads,
                "wrk": subprocess.run(
                    [wrk, "-v"], capture_output=True, text=True, check=False
                ).stdout.split(" ")[1],
                "postgres": asyncio.run(_postgres_version(database_url)),
            },
            "machine": machine(),
        }
    finally:
        for server in servers:
            server.stop()
        if sink is not None:
            sink[0].terminate()  # it logs how many spans it received
            sink[0].wait(timeout=10)
        if args.keep_database:
            log(f"kept the database {args.database}")
        else:
            drop_database(args.pg, args.database)
            log(f"dropped the database {args.database}")

    table = markdown(report)
    (run_dir / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    (run_dir / "results.md").write_text(
        f"# Benchmark {report['started']}\n\n{table}\n\n## Profile of ours\n\n{profile_text}\n"
    )
    failed = [key for key, numbers in runs.items() if numbers["failed"]]
    print()
    print(table)
    print()
    print(profile_text)
    print(f"\nresults: {run_dir.relative_to(ROOT)}/")
    if failed:
        log(f"responses failed (non-2xx or timeout) under load for: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        log(f"error: {exc}")
        sys.exit(1)
