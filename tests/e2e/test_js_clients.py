"""The JavaScript clients a frontend team uses, unchanged, against a real server process
(``python -m server serve`` on SQLite with the demo data): each scenario is a Node script in
``tests/clients/`` (the README's "Clients" snippets, verbatim) that prints one JSON report of
what the client received and what went over the wire; the assertions are here.

They need Node and ``make client-deps`` (``npm ci`` in tests/clients), so they run only with
``CLIENT_TESTS=1``, which ``.ci/run`` sets in its second pass; ``make test`` skips them.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.seed import DEMO_PASSWORD
from tests.e2e.conftest import free_port
from tests.e2e.processes import (
    PROJECT_ROOT,
    run_cli,
    server_env,
    start_server,
    stop_server,
    wait_ready,
)
from tests.file_samples import PDF

CLIENTS_DIR = PROJECT_ROOT / "tests" / "clients"
NODE = shutil.which("node")
SCRIPT_SECONDS = 60  # a hang guard per script, never a speed assertion
ALLOWED_ORIGIN = "http://app.example.test"
NODE_TITLE = "query($id: ID!) { node(id: $id) { id ... on Post { title } } }"

pytestmark = [
    pytest.mark.clients,
    pytest.mark.skipif(
        os.environ.get("CLIENT_TESTS") != "1",
        reason="the JavaScript clients run with CLIENT_TESTS=1 after `make client-deps` (.ci/run)",
    ),
]


@dataclass
class Server:
    url: str  # the GraphQL endpoint
    log: Path


@asynccontextmanager
async def demo_server(directory: Path, **settings: str) -> AsyncIterator[Server]:
    """``python -m server serve`` on its own SQLite file with the demo data."""
    assert NODE is not None, "CLIENT_TESTS=1 needs node on the PATH"
    assert (CLIENTS_DIR / "node_modules").is_dir(), "run `make client-deps` first"
    port = free_port()
    env = server_env(
        f"sqlite://{directory}/agora.sqlite3", APP_URL=f"http://127.0.0.1:{port}", **settings
    )
    await run_cli(env, "migrate")
    await run_cli(env, "seed")
    log = directory / "server.log"
    with log.open("wb") as output:
        process = await start_server(env, port, output)
        try:
            await wait_ready(f"http://127.0.0.1:{port}", process)
            yield Server(f"http://127.0.0.1:{port}/graphql", log)
        finally:
            await stop_server(process)


@pytest.fixture(scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    """One server for the module's scenarios. They only add rows (posts, orders, files) and
    rename Bo, which none of the others reads."""
    async with demo_server(
        tmp_path_factory.mktemp("js-clients"),
        CORS_ALLOWED_ORIGINS=ALLOWED_ORIGIN,
        # What a relay-compiler build with persistConfig writes (relay.mjs sends its ids);
        # audit mode also runs every other document.
        TRUSTED_DOCUMENTS_MODE="audit",
        TRUSTED_DOCUMENTS_MANIFEST=str(CLIENTS_DIR / "persisted_queries.json"),
    ) as running:
        yield running


@pytest.fixture(scope="module")
async def trusted_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    """A server that runs only the documents of the Apollo manifest in tests/clients."""
    async with demo_server(
        tmp_path_factory.mktemp("js-clients-trusted"),
        TRUSTED_DOCUMENTS_MODE="allow-list",
        TRUSTED_DOCUMENTS_MANIFEST=str(CLIENTS_DIR / "persisted-query-manifest.json"),
    ) as running:
        yield running


async def run_scenario(server: Server, script: str, *args: str) -> dict[str, Any]:
    """``node tests/clients/<script> <url> <args>``: its JSON report. A script that fails,
    hangs or prints no report fails the test with its output and the server's log."""
    assert NODE is not None
    process = await asyncio.create_subprocess_exec(
        NODE,
        script,
        server.url,
        *args,
        cwd=CLIENTS_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(SCRIPT_SECONDS):
            stdout, stderr = await process.communicate()
    except TimeoutError:
        process.kill()
        stdout, stderr = await process.communicate()
    output = stdout.decode()
    if process.returncode != 0:
        server_log = server.log.read_text(errors="replace")[-4000:]
        pytest.fail(
            f"{script} exited with {process.returncode}\n--- stdout\n{output[-6000:]}\n"
            f"--- stderr\n{stderr.decode()[-4000:]}\n--- server log\n{server_log}"
        )
    report: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return report


async def graphql(
    server: Server, query: str, variables: dict[str, Any] | None = None, token: str = ""
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient() as http:
        response = await http.post(
            server.url, json={"query": query, "variables": variables or {}}, headers=headers
        )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def login(server: Server, email: str) -> str:
    data = await graphql(
        server,
        "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }",
        {"e": email, "p": DEMO_PASSWORD},
    )
    return str(data["login"]["accessToken"])


# Working on main already: keep them working.


async def test_apollo_client_cache_normalises_an_author_shared_by_posts(server):
    report = await run_scenario(server, "apollo-http.mjs")

    bo = report["renamed"]
    assert bo["name"] == "Bo Renamed"
    # One cache entry per user, however many posts show them.
    assert len(report["cachedUsers"]) == report["authors"] < report["posts"]
    # The mutation's answer updated every cached post by Bo, read without a request.
    by_bo = [author for author in report["cachedAuthorsAfterRename"] if author["id"] == bo["id"]]
    assert len(by_bo) >= 2
    assert {author["name"] for author in by_bo} == {"Bo Renamed"}
    assert report["requestsBeforeRead"] == len(report["wire"]) == 2
    query, mutation = report["wire"]
    assert "authorization" not in query["headers"]
    assert mutation["headers"]["authorization"].startswith("Bearer ")
    for request in report["wire"]:
        assert request["headers"]["apollographql-client-name"] == "agora-web"
        assert request["headers"]["apollographql-client-version"] == "1.4.2"


async def test_graphql_request_sends_the_token_and_reads_error_codes(server):
    report = await run_scenario(server, "graphql-request.mjs")

    assert report["anonymous"] == {"code": "UNAUTHENTICATED"}
    assert report["me"]["email"] == "uma@agora.test"
    assert report["ordered"]["status"] == "PAID"


async def test_apollo_client_subscribes_over_the_websocket_and_queries_over_http(server):
    report = await run_scenario(server, "apollo-websocket.mjs")

    assert report["me"]["email"] == "uma@agora.test"
    assert report["errors"] == []
    assert report["received"][0]["id"] in report["published"]
    assert report["received"][0]["author"]["name"] == "Uma User"
    # Only the query went over HTTP: the subscription took the websocket.
    assert report["httpRequests"] == ["Me"]


async def test_urql_receives_post_published_over_graphql_ws(server):
    report = await run_scenario(server, "urql-websocket.mjs")

    assert report["meError"] is None
    assert report["me"]["email"] == "cy@agora.test"
    received = report["received"][0]
    assert received["id"] in report["published"]
    assert received["author"]["name"] == "Cy Shutterbug"


async def test_a_file_uploaded_by_the_multipart_spec_downloads_unchanged(server, tmp_path):
    path = tmp_path / "invoice.pdf"
    path.write_bytes(PDF)

    report = await run_scenario(server, "upload.mjs", str(path))

    uploaded = report["uploaded"]["data"]["uploadFile"]
    assert (uploaded["filename"], uploaded["contentType"], uploaded["size"]) == (
        "invoice.pdf",
        "application/pdf",
        len(PDF),
    )
    downloaded = report["downloaded"]
    assert downloaded["status"] == 200
    assert base64.b64decode(downloaded["base64"]) == PDF
    upload_request = report["wire"][0]
    assert upload_request["headers"]["content-type"].startswith("multipart/form-data; boundary=")
    assert upload_request["form"] == ["operations", "map", "0"]


async def test_relay_network_layer_fetches_by_text_and_by_persisted_id(server):
    report = await run_scenario(server, "relay.mjs")

    assert report["bodies"] == [["query", "variables"], ["doc_id", "variables"]]
    by_text, by_id = report["byText"], report["byId"]
    assert "errors" not in by_text, by_text
    assert by_text["data"]["me"]["name"] == "Uma User"
    posts = by_text["data"]["posts"]
    assert len(posts["edges"]) == 2
    assert posts["pageInfo"]["endCursor"] == posts["edges"][-1]["cursor"]
    # The id alone runs the manifest's document: the same answer.
    assert by_id["data"] == by_text["data"]


async def test_relay_subscribes_over_graphql_sse(server):
    report = await run_scenario(server, "relay.mjs")

    event = report["received"][0]
    assert "errors" not in event, event
    assert event["data"]["postPublished"]["id"] in report["published"]


# The features of issue 11.


async def test_apollo_persisted_queries_register_once_then_send_only_the_hash(server):
    report = await run_scenario(server, "apollo-persisted.mjs")

    names = report["results"][0]
    assert isinstance(names, list), names
    assert len(names) == 3
    assert report["results"] == [names] * 4
    miss, registration, *hits = report["browser"]
    document = registration["query"]
    expected = {"version": 1, "sha256Hash": hashlib.sha256(document.encode()).hexdigest()}
    # The first request: only the hash, over GET; the server does not know it yet.
    assert (miss["method"], miss["query"], miss["persistedQuery"]) == ("GET", None, expected)
    assert miss["codes"] == ["PERSISTED_QUERY_NOT_FOUND"]
    # Apollo's retry carries the document with the hash (by POST): it is stored.
    assert (registration["method"], registration["status"]) == ("POST", 200)
    assert registration["persistedQuery"] == expected
    # Then only the hash, over GET, answered from the stored document.
    assert [(hit["method"], hit["status"], hit["query"]) for hit in hits] == [
        ("GET", 200, None)
    ] * 2
    assert [hit["persistedQuery"] for hit in hits] == [expected] * 2
    # A hash-only GET of public fields is cacheable (by a CDN too); the miss and the POST not.
    assert {hit["cacheControl"].split(",")[0] for hit in hits} == {"public"}
    assert all(hit["etag"] for hit in hits)
    assert miss["cacheControl"] == registration["cacheControl"] == "no-store"
    # Another client (POST): its very first request, hash only, is a hit.
    assert [(r["method"], r["status"], r["query"]) for r in report["other"]] == [
        ("POST", 200, None)
    ]


async def test_urql_persisted_exchange_registers_once_then_sends_only_the_hash(server):
    report = await run_scenario(server, "urql-persisted.mjs")

    names = report["results"][0]
    assert isinstance(names, list), names
    assert report["results"] == [names] * 3
    miss, registration, *hits = report["requests"]
    document = registration["query"]
    digest = hashlib.sha256(document.encode()).hexdigest()
    assert (miss["method"], miss["query"]) == ("GET", None)
    assert miss["persistedQuery"] == {"version": 1, "sha256Hash": digest}
    assert (registration["method"], registration["status"]) == ("GET", 200)
    assert registration["persistedQuery"]["sha256Hash"] == digest
    assert [(hit["method"], hit["status"], hit["query"]) for hit in hits] == [
        ("GET", 200, None)
    ] * 2
    assert {hit["contentType"].split(";")[0] for hit in hits} == {
        "application/graphql-response+json"
    }


async def test_apollo_client_sends_manifest_ids_to_a_trusted_documents_server(trusted_server):
    report = await run_scenario(trusted_server, "apollo-trusted.mjs")

    manifest = json.loads((CLIENTS_DIR / "persisted-query-manifest.json").read_text())
    [operation] = manifest["operations"]
    assert len(report["trusted"]) == 2
    # One request, the manifest's id alone, answered from the manifest's document.
    [request] = report["trustedWire"]
    assert request["status"] == 200
    assert "query" not in request["body"]
    assert request["body"]["extensions"]["persistedQuery"]["sha256Hash"] == operation["id"]


async def test_a_document_outside_the_manifest_is_refused_to_apollo_client(trusted_server):
    report = await run_scenario(trusted_server, "apollo-trusted.mjs")

    assert report["unlisted"]["codes"] == ["PERSISTED_QUERY_NOT_ALLOWED"]


async def test_apollo_batch_http_link_sends_ten_operations_in_one_request(server):
    report = await run_scenario(server, "apollo-batch.mjs")

    assert report["requests"] == [{"status": 200, "operations": 10}]
    # Each operation got its own answer: what Uma gets for each id one request at a time.
    token = await login(server, "uma@agora.test")
    one_by_one = [
        (await graphql(server, NODE_TITLE, {"id": post_id}, token))["node"]
        for post_id in report["ids"]
    ]
    received = [
        None if node is None else {"id": node["id"], "title": node["title"]}
        for node in report["results"]
    ]
    assert received == one_by_one
    assert sum(node is not None for node in one_by_one) >= 6  # the published ones at least


async def test_graphql_sse_receives_post_published(server):
    report = await run_scenario(server, "graphql-sse.mjs")

    received = report["received"][0]
    assert received["id"] in report["published"]
    assert received["author"]["name"] == "Mo Moderator"
    streams = [r for r in report["requests"] if r["accept"] == "text/event-stream"]
    assert streams
    assert [(r["status"], r["contentType"].split(";")[0]) for r in streams] == [
        (200, "text/event-stream")
    ] * len(streams)


async def test_apollo_client_receives_a_subscription_over_multipart_http(server):
    report = await run_scenario(server, "apollo-multipart-subscription.mjs")

    assert report["errors"] == []
    received = report["received"][0]
    assert received["id"] in report["published"]
    assert received["author"]["name"] == "Ada Admin"
    (request,) = report["requests"]
    assert request["status"] == 200
    assert request["contentType"].startswith("multipart/mixed")


async def test_apollo_client_reads_a_deferred_fragment(server):
    report = await run_scenario(server, "apollo-defer.mjs")

    (request,) = report["requests"]
    assert request["contentType"].startswith("multipart/mixed")
    states = report["states"]
    first, last = states[0], states[-1]
    # The posts came first, without their comments; the last state has everything.
    assert first["dataState"] == "streaming"
    assert {post["comments"] is None for post in first["posts"]} == {True}
    assert last["dataState"] == "complete"
    assert [post["id"] for post in last["posts"]] == [post["id"] for post in first["posts"]]
    assert all(post["comments"] is not None for post in last["posts"])
    assert any(post["comments"] for post in last["posts"])


async def test_apollo_client_reads_a_streamed_list(server):
    report = await run_scenario(server, "apollo-stream.mjs")

    (request,) = report["requests"]
    assert request["contentType"].startswith("multipart/mixed")
    assert "incrementalSpec=v0.2" in request["contentType"]
    first, *_, last = report["states"]
    # One post at once, the rest streamed after it, in order.
    assert (first["loading"], len(first["ids"])) == (True, 1)
    assert last["loading"] is False
    assert len(last["ids"]) == 4
    assert last["ids"][0] == first["ids"][0]


async def test_a_browser_preflight_may_ask_for_apollo_and_trace_context_headers(server):
    report = await run_scenario(server, "preflight.mjs", ALLOWED_ORIGIN)

    preflight = report["preflight"]
    assert preflight["status"] == 200
    assert preflight["headers"]["access-control-allow-origin"] == ALLOWED_ORIGIN
    allowed = {
        name.strip().lower()
        for name in preflight["headers"]["access-control-allow-headers"].split(",")
    }
    assert set(preflight["requested"]) <= allowed
    actual = report["actual"]
    assert actual["status"] == 200
    assert actual["headers"]["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "errors" not in actual["body"]


async def test_apollo_csrf_safe_headers_let_a_multipart_post_through(server):
    report = await run_scenario(server, "preflight.mjs", ALLOWED_ORIGIN)

    csrf = report["csrf"]
    for header in ("x-apollo-operation-name", "apollo-require-preflight"):
        assert csrf[header]["status"] == 200, (header, csrf[header])
        assert csrf[header]["body"]["data"] == {"me": None}
    assert csrf["none"]["status"] == 400
    assert csrf["none"]["body"]["errors"][0]["extensions"]["reason"] == "CSRF"
