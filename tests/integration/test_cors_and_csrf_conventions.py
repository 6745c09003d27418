"""The headers mainstream clients send: Apollo's client awareness and CSRF-prevention headers
and W3C trace context pass a CORS preflight (CORS_ALLOWED_HEADERS), and
`x-apollo-operation-name` / `apollo-require-preflight` make a simple-body POST CSRF-safe, as
in Apollo Server 4's preventCsrf."""

from __future__ import annotations

import json

import httpx
import pytest

from core.settings import ConfigurationError, Settings, load_settings
from tests.conftest import AppFactory

APP_ORIGIN = "https://app.example.com"
ME_QUERY = "{ me { id } }"
CLIENT_HEADERS = (
    "apollographql-client-name",
    "apollographql-client-version",
    "traceparent",
    "tracestate",
    "baggage",
    "x-apollo-operation-name",
    "apollo-require-preflight",
)
CSRF_MESSAGE = "cross-site request forgery"


async def preflight(client: httpx.AsyncClient, requested: str) -> httpx.Response:
    """What a browser sends before a cross-origin POST with these headers."""
    return await client.options(
        "/graphql",
        headers={
            "Origin": APP_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": requested,
        },
    )


def allowed_headers(response: httpx.Response) -> set[str]:
    return {
        header.strip().lower()
        for header in response.headers["access-control-allow-headers"].split(",")
    }


def multipart(query: str) -> dict[str, tuple[str | None, str]]:
    return {"operations": (None, json.dumps({"query": query})), "map": (None, "{}")}


# --- CORS ---------------------------------------------------------------------------------


async def test_preflight_with_apollo_and_trace_headers_is_allowed(
    client_factory: AppFactory,
) -> None:
    client = client_factory(cors_allowed_origins=[APP_ORIGIN])
    response = await preflight(client, ",".join(("content-type", *CLIENT_HEADERS)))
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    assert set(CLIENT_HEADERS) <= allowed_headers(response)


async def test_preflight_with_an_unlisted_header_is_refused(client_factory: AppFactory) -> None:
    client = client_factory(cors_allowed_origins=[APP_ORIGIN])
    response = await preflight(client, "content-type, x-unlisted")
    # A browser fails any preflight that is not 2xx (Starlette names the reason).
    assert response.status_code == 400
    assert response.text == "Disallowed CORS headers"


async def test_the_allowed_headers_are_configurable_and_keep_the_csrf_header(
    client_factory: AppFactory,
) -> None:
    client = client_factory(
        cors_allowed_origins=[APP_ORIGIN],
        cors_allowed_headers=["Content-Type", "X-Tenant"],
        csrf_header="X-Csrf",
    )
    assert (await preflight(client, "content-type, x-tenant, x-csrf")).status_code == 200
    assert (await preflight(client, "content-type, traceparent")).status_code == 400


def test_cors_allowed_headers_are_read_as_a_comma_separated_list() -> None:
    settings = Settings(cors_allowed_headers=" Content-Type, Traceparent ,")
    assert settings.cors_allowed_headers == ["Content-Type", "Traceparent"]


def test_default_cors_allowed_headers_keep_the_previous_ones() -> None:
    allowed = {name.lower() for name in Settings().cors_allowed_headers}
    assert {
        "authorization",
        "content-type",
        "accept",
        "x-request-id",
        *CLIENT_HEADERS,
    } <= allowed


@pytest.mark.parametrize("value", ["*", "Content-Type,bad header", "x:y"])
def test_a_wildcard_or_malformed_header_name_is_a_configuration_error(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORS_ALLOWED_HEADERS", value)
    with pytest.raises(ConfigurationError) as raised:
        load_settings()
    assert any("CORS_ALLOWED_HEADERS" in problem for problem in raised.value.problems)


# --- CSRF ---------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["X-Apollo-Operation-Name", "Apollo-Require-Preflight"])
async def test_multipart_with_an_apollo_csrf_header_is_executed(
    client: httpx.AsyncClient, header: str
) -> None:
    response = await client.post("/graphql", files=multipart(ME_QUERY), headers={header: "Me"})
    assert response.status_code == 200
    assert response.json()["data"] == {"me": None}


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_simple_body_with_x_apollo_operation_name_passes_the_guard(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {"X-Apollo-Operation-Name": "Me"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = await client.post(
        "/graphql", content=json.dumps({"query": ME_QUERY}), headers=headers
    )
    # Past the guard, the endpoint reads only JSON and multipart bodies.
    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
async def test_simple_body_without_any_csrf_header_is_refused(
    client: httpx.AsyncClient, content_type: str
) -> None:
    response = await client.post("/graphql", content=b"{}", headers={"Content-Type": content_type})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert CSRF_MESSAGE in error["message"]
    assert "x-apollo-operation-name" in error["message"]
    assert error["extensions"]["reason"] == "CSRF"


async def test_a_blank_apollo_csrf_header_does_not_count(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", files=multipart(ME_QUERY), headers={"X-Apollo-Operation-Name": " "}
    )
    assert response.status_code == 400
    assert CSRF_MESSAGE in response.json()["errors"][0]["message"]


async def test_json_post_needs_no_csrf_header(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": ME_QUERY})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Apollo-Operation-Name": "Me"}, {"Content-Type": "text/plain"}],
    ids=["no-header", "apollo-operation-name", "simple-content-type"],
)
async def test_get_queries_are_not_csrf_guarded(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    # No cookie authenticates a request and GET runs queries only, so a cross-site GET
    # can do nothing a plain page load could not (README, CSRF).
    response = await client.get("/graphql", params={"query": ME_QUERY}, headers=headers)
    assert response.status_code == 200
    assert response.json()["data"] == {"me": None}
