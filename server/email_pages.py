"""Development only: the pages the verification and password-reset emails link to.

``GET /verify-email?token=…`` and ``GET /reset-password?token=…`` render a form and change
nothing (mail scanners prefetch links); the form's POST runs the ``verifyEmail`` or
``resetPassword`` mutation through the schema, with every rule /graphql applies, and shows
the outcome. They answer only when APP_ENV=development and the request reached the origin
APP_URL names, at its root (the links lead here); with APP_URL pointing at a frontend they
are 404, and production has no such routes at all.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape
from markupsafe import Markup
from starlette.datastructures import URL
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from schema.errors import format_error, http_status
from server.graphql_view import GraphQLView
from services.emails import RESET_PASSWORD_PATH, VERIFY_EMAIL_PATH
from services.errors import AppError, ErrorCode

STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f5f5f4;color:#1c1917}"
    "main{max-width:28rem;margin:3rem auto;padding:1.5rem;background:#fff;border-radius:8px}"
    "h1{font-size:1.4rem;margin-top:0}label,input,button{display:block;width:100%}"
    "input{box-sizing:border-box;padding:.5rem;margin:.25rem 0;font:inherit}"
    "button{margin-top:1rem;padding:.6rem;font:inherit;cursor:pointer}"
    ".note{color:#57534e;font-size:.85rem}.ok{color:#166534}.error{color:#b91c1c}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
# The API's CSP forbids everything, forms included; these pages need their one inline style
# (by hash) and a form posting to themselves. No script.
PAGE_CSP = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = {"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store"}
MAX_FORM_FIELDS = 4


@dataclass(frozen=True, slots=True)
class Flow:
    path: str
    title: str
    button: str
    mutation: str
    asks_password: bool
    done: str


FLOWS = (
    Flow(
        path=VERIFY_EMAIL_PATH,
        title="Verify your email",
        button="Verify my email",
        mutation="mutation($token: String!) { verifyEmail(token: $token) { id } }",
        asks_password=False,
        done="Your email address is verified: you can log in now.",
    ),
    Flow(
        path=RESET_PASSWORD_PATH,
        title="Choose a new password",
        button="Set the new password",
        mutation=(
            "mutation($token: String!, $newPassword: String!) "
            "{ resetPassword(token: $token, newPassword: $newPassword) }"
        ),
        asks_password=True,
        done="Your password is changed and every session has ended: log in with the new one.",
    ),
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a page says: ``message`` (good news when ``ok``), the problems listed under
    it, and whether the form is shown (again)."""

    message: str | None = None
    ok: bool = False
    problems: tuple[str, ...] = ()
    form: bool = False


def email_page_routes(view: GraphQLView) -> list[Route]:
    return [Route(flow.path, _endpoint(view, flow), methods=["GET", "POST"]) for flow in FLOWS]


def _endpoint(view: GraphQLView, flow: Flow) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        app_url = view.settings.app_url
        if not links_lead_here(request.url, app_url):
            message = f"Not found: APP_URL ({app_url}) is not this server."
            return _page(flow, "", Outcome(message), 404)
        if request.method in ("GET", "HEAD"):  # Starlette routes HEAD to GET endpoints
            return _form_page(flow, request.query_params.get("token", ""))
        if is_cross_site(request):
            message = "Refused: this form must be sent from its own page."
            return _page(flow, "", Outcome(message), 403)
        try:
            fields = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
        except HTTPException as exc:  # Starlette's answer to a malformed form
            return _page(flow, "", Outcome(f"Unreadable form: {exc.detail}"), 400)
        token = _text(fields.get("token"))
        variables = {"token": token}
        if flow.asks_password:
            variables["newPassword"] = _text(fields.get("newPassword"))
        outcome, status = await _run(view, request, flow, variables)
        return _page(flow, token, outcome, status)

    return endpoint


def links_lead_here(url: URL, app_url: str) -> bool:
    """APP_URL is this server: the request came to the origin APP_URL names, and APP_URL
    has no path (a path is a frontend's)."""
    target = URL(app_url)
    return target.path in ("", "/") and _origin(target) == _origin(url)


def _origin(url: URL) -> tuple[str, str, int | None]:
    default_port = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, (url.hostname or "").lower(), url.port or default_port


def is_cross_site(request: Request) -> bool:
    """The rule of Go's ``http.CrossOriginProtection``: current browsers say where a request
    comes from in ``Sec-Fetch-Site``, older ones in ``Origin``; a request with neither is not
    a browser's, so it carries nothing a forger could borrow. These pages are served with
    ``Referrer-Policy: no-referrer``, under which a browser without ``Sec-Fetch-Site`` sends
    ``Origin: null`` for its form: refused too."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return False
    own = request.url
    return origin != f"{own.scheme}://{own.netloc}"


async def _run(
    view: GraphQLView, request: Request, flow: Flow, variables: dict[str, str]
) -> tuple[Outcome, int]:
    """Execute the flow's mutation as /graphql would; an invalid token ends the flow, any
    other failure (a password rule, a busy server) shows the form again."""
    try:
        context = await view.get_context(request, Response())
    except AppError as exc:
        return Outcome(exc.message, form=True), exc.http_status
    result = await view.schema.execute(
        flow.mutation, variable_values=variables, context_value=context
    )
    if not result.errors:
        return Outcome(flow.done, ok=True), 200
    error = result.errors[0]
    formatted = format_error(error, mask=view.settings.is_production, request_id=context.request_id)
    extensions = formatted["extensions"]
    problems = tuple(str(detail["message"]) for detail in extensions.get("details") or ())
    retry = extensions["code"] != ErrorCode.BAD_USER_INPUT.value
    return Outcome(formatted["message"], problems=problems, form=retry), http_status(error)


def _form_page(flow: Flow, token: str) -> Response:
    if not token:
        message = "This link has no token: open the whole link from the email."
        return _page(flow, "", Outcome(message), 400)
    return _page(flow, token, Outcome(form=True), 200)


def _page(flow: Flow, token: str, outcome: Outcome, status: int) -> HTMLResponse:
    form = (
        {
            "action": flow.path,
            "token": token,
            "asks_password": flow.asks_password,
            "button": flow.button,
        }
        if outcome.form
        else None
    )
    html = _template().render(
        title=flow.title,
        style=Markup(STYLE),  # noqa: S704 - our constant, hashed into the CSP as it is
        message=outcome.message,
        ok=outcome.ok,
        problems=outcome.problems,
        form=form,
    )
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


@lru_cache(maxsize=1)
def _template() -> Template:
    environment = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",)),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template("email_page.html.j2")
