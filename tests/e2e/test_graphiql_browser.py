"""GraphiQL renders in a real headless Chromium against a real uvicorn, offline and under
its CSP (the page's assets are served by the app)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium package")


async def dump_dom(url: str, profile: str) -> str:
    process = await asyncio.create_subprocess_exec(
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=15000",
        "--dump-dom",
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, _ = await asyncio.wait_for(process.communicate(), timeout=90)
    return stdout.decode()


async def test_graphiql_renders_in_a_browser(live_server):
    with tempfile.TemporaryDirectory() as profile:
        dom = await dump_dom(f"{live_server.base_url}/graphql", profile)
    # React mounted GraphiQL's editor into the page: its class names are in the live DOM.
    assert "graphiql-container" in dom
    assert "graphiql-editor" in dom
