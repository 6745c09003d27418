"""The GraphiQL page: Strawberry's, with its assets served by us and its own CSP."""

from __future__ import annotations

import base64
import hashlib
import re

GRAPHIQL_ASSETS_PATH = "/graphiql-assets"
# Strawberry's page loads these from unpkg; we serve the same files (server/static/graphiql).
_UNPKG_ASSETS = {
    "https://unpkg.com/react@18.2.0/umd/react.production.min.js": "react.production.min.js",
    "https://unpkg.com/react-dom@18.2.0/umd/react-dom.production.min.js": (
        "react-dom.production.min.js"
    ),
    "https://unpkg.com/js-cookie@3.0.5/dist/js.cookie.min.js": "js.cookie.min.js",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.css": "graphiql.min.css",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.js": "graphiql.min.js",
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/style.css": "plugin-explorer.css",
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/index.umd.js": (
        "plugin-explorer.umd.js"
    ),
}

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def local_graphiql_html(html: str) -> str:
    """Strawberry's GraphiQL page with its assets served by us: it works offline and under
    a CSP without third-party hosts (the SRI hashes still hold: the files are identical)."""
    for remote, local in _UNPKG_ASSETS.items():
        html = html.replace(remote, f"{GRAPHIQL_ASSETS_PATH}/{local}")
    return html


def graphiql_csp(html: str) -> str:
    """A CSP for the GraphiQL page: our own assets, its inline scripts by hash."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return (
        "default-src 'self'; "
        f"script-src 'self' {hashes}; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; "
        "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'none'"
    )
