"""Security headers on every HTTP response; a route may set its own CSP (GraphiQL does)."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
HSTS = "max-age=63072000; includeSubDomains"

_FIXED = (
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=()"),
)
_CSP_NAME = b"content-security-policy"
# Header names whose presence sends a response through MutableHeaders (replace or delete).
_REWRITTEN = frozenset(
    [name.encode("latin-1") for name, _ in _FIXED] + [b"strict-transport-security", b"server"]
)


def _raw(pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[bytes, bytes], ...]:
    return tuple((name.encode("latin-1"), value.encode("latin-1")) for name, value in pairs)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts
        added = _FIXED + ((("strict-transport-security", HSTS),) if hsts else ())
        # What the stock path below appends, in its order, when none of its names is there:
        # one new list instead of seven scans of the header list per response.
        self._appended_with_csp = _raw((("content-security-policy", API_CSP), *added))
        self._appended = _raw(added)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.add_headers(message)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def add_headers(self, message: Message) -> None:
        raw = message.get("headers")
        if type(raw) is list:
            has_csp = False
            for name, _ in raw:
                if name in _REWRITTEN:
                    break
                if name == _CSP_NAME:
                    has_csp = True
            else:
                # A new list, as MutableHeaders makes: a Response's own list stays as it was.
                added = self._appended if has_csp else self._appended_with_csp
                message["headers"] = [*raw, *added]
                return
        headers = MutableHeaders(scope=message)
        headers.setdefault("content-security-policy", API_CSP)
        headers["x-content-type-options"] = "nosniff"
        headers["x-frame-options"] = "DENY"
        headers["referrer-policy"] = "no-referrer"
        headers["cross-origin-opener-policy"] = "same-origin"
        headers["permissions-policy"] = "camera=(), microphone=(), geolocation=()"
        if self.hsts:
            headers["strict-transport-security"] = HSTS
        if "server" in headers:
            del headers["server"]
