"""The HTTP contract of /graphql and the middleware around it (GraphQL-over-HTTP).

Content negotiation and status codes, GET, batching, the CSRF guard, request ids, security
headers, GraphiQL, CORS, the body-size limit and compression, all through the ASGI app.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from server.middleware.security_headers import API_CSP, SecurityHeadersMiddleware
from tests.conftest import DATABASE_URL, AppFactory, graphql

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
LEGACY_JSON = "application/json"
ME_QUERY = "{ me { id } }"
HEX_REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")
APP_ORIGIN = "https://app.example.com"
EVIL_ORIGIN = "https://evil.example.com"
CSRF_MESSAGE = "cross-site request forgery"


def media_type(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0].strip()


def media_type_of_request(response: httpx.Response) -> str:
    return response.request.headers["content-type"].split(";")[0].strip()


def production_client(client_factory: AppFactory, **overrides: Any) -> httpx.AsyncClient:
    """An app configured as production (the tests' settings skip ``Settings.problems()``,
    so the test database is accepted)."""
    return client_factory(
        app_env="production",
        jwt_secret="x" * 40,
        refresh_token_secret="y" * 40,
        metrics_token="z" * 40,
        database_url=DATABASE_URL,
        **overrides,
    )


def multipart_operation(query: str) -> dict[str, tuple[str | None, bytes | str]]:
    """A GraphQL multipart request without files: ``operations`` and an empty ``map``."""
    return {
        "operations": (None, json.dumps({"query": query})),
        "map": (None, "{}"),
    }


def error_codes(response: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json()["errors"]]


# --- content negotiation and status codes ---------------------------------------------


def without_accept(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Request:
    request = client.build_request("POST", "/graphql", json=body)
    del request.headers["accept"]  # httpx sends "Accept: */*" unless told otherwise
    return request


# No Accept or only wildcards: the client may be a legacy one, so a 2xx says application/json
# (the spec's SHOULD; graphql-http audits 80D8 and its `*/*` twin). Status codes do not change:
# a request error is still a 4xx, under application/graphql-response+json, which tells even
# such a client that the body is a GraphQL response.


async def test_success_is_application_json_without_accept_header(
    client: httpx.AsyncClient,
) -> None:
    response = await client.send(without_accept(client, {"query": ME_QUERY}))
    assert "accept" not in response.request.headers
    assert response.status_code == 200
    assert media_type(response) == LEGACY_JSON
    assert response.json()["data"] == {"me": None}


async def test_success_is_application_json_for_accept_any(client: httpx.AsyncClient) -> None:
    response = await graphql(client, ME_QUERY, headers={"Accept": "*/*"})
    assert response.status_code == 200
    assert media_type(response) == LEGACY_JSON


async def test_success_is_application_json_for_accept_application_any(
    client: httpx.AsyncClient,
) -> None:
    response = await graphql(client, ME_QUERY, headers={"Accept": "application/*"})
    assert response.status_code == 200
    assert media_type(response) == LEGACY_JSON


async def test_browser_default_accept_gets_application_json(client: httpx.AsyncClient) -> None:
    response = await graphql(
        client, ME_QUERY, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    )
    assert response.status_code == 200
    assert media_type(response) == LEGACY_JSON


async def test_request_error_is_400_graphql_response_json_without_accept_header(
    client: httpx.AsyncClient,
) -> None:
    response = await client.send(without_accept(client, {"query": "{ nope }"}))
    assert response.status_code == 400
    assert media_type(response) == GRAPHQL_RESPONSE_JSON
    assert "data" not in response.json()
    assert error_codes(response) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_request_error_is_400_graphql_response_json_for_accept_any(
    client: httpx.AsyncClient,
) -> None:
    response = await graphql(client, "{ me { id ", headers={"Accept": "*/*"})
    assert response.status_code == 400
    assert media_type(response) == GRAPHQL_RESPONSE_JSON
    assert error_codes(response) == ["GRAPHQL_PARSE_FAILED"]


async def test_batch_is_application_json_for_accept_any(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json=[{"query": ME_QUERY}], headers={"Accept": "*/*"})
    assert response.status_code == 200
    assert media_type(response) == LEGACY_JSON


async def test_graphql_response_json_named_beside_a_wildcard_is_used(
    client: httpx.AsyncClient,
) -> None:
    response = await graphql(
        client, ME_QUERY, headers={"Accept": f"{GRAPHQL_RESPONSE_JSON}, */*;q=0.1"}
    )
    assert response.status_code == 200
    assert media_type(response) == GRAPHQL_RESPONSE_JSON


async def test_response_is_graphql_response_json_when_asked_for(
    client: httpx.AsyncClient,
) -> None:
    response = await graphql(client, ME_QUERY, headers={"Accept": GRAPHQL_RESPONSE_JSON})
    assert response.status_code == 200
    assert media_type(response) == GRAPHQL_RESPONSE_JSON


async def test_response_is_application_json_for_legacy_accept(
    client: httpx.AsyncClient,
) -> None:
    response = await graphql(client, ME_QUERY, headers={"Accept": LEGACY_JSON})
    assert response.status_code == 200
    assert media_type(response) == LEGACY_JSON


async def test_accept_qualities_pick_the_preferred_json_type(client: httpx.AsyncClient) -> None:
    response = await graphql(
        client,
        ME_QUERY,
        headers={"Accept": f"{GRAPHQL_RESPONSE_JSON};q=0.5, {LEGACY_JSON};q=0.9"},
    )
    assert response.status_code == 200
    assert media_type(response) == LEGACY_JSON


async def test_successful_query_answers_200_with_data(client: httpx.AsyncClient) -> None:
    response = await graphql(client, ME_QUERY)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"me": None}
    assert "errors" not in body


async def test_parse_error_is_400_without_data(client: httpx.AsyncClient) -> None:
    response = await graphql(client, "{ me { id ")
    assert response.status_code == 400
    assert media_type(response) == GRAPHQL_RESPONSE_JSON
    body = response.json()
    assert "data" not in body
    assert error_codes(response) == ["GRAPHQL_PARSE_FAILED"]
    assert body["errors"][0]["message"].startswith("Syntax Error")


async def test_parse_error_is_200_without_data_under_legacy_json(
    client: httpx.AsyncClient,
) -> None:
    response = await graphql(client, "{ me { id ", headers={"Accept": LEGACY_JSON})
    assert response.status_code == 200
    assert media_type(response) == LEGACY_JSON
    assert "data" not in response.json()
    assert error_codes(response) == ["GRAPHQL_PARSE_FAILED"]


async def test_unknown_field_is_400_validation_failed(client: httpx.AsyncClient) -> None:
    response = await graphql(client, "{ nope }")
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert error_codes(response) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Cannot query field 'nope' on type 'Query'" in body["errors"][0]["message"]


async def test_validation_error_is_200_under_legacy_json(client: httpx.AsyncClient) -> None:
    response = await graphql(client, "{ nope }", headers={"Accept": LEGACY_JSON})
    assert response.status_code == 200
    assert "data" not in response.json()
    assert error_codes(response) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_every_validation_error_is_reported_with_code_and_request_id(
    client: httpx.AsyncClient,
) -> None:
    response = await graphql(client, "{ nope nada }")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert len(errors) == 2
    request_id = response.headers["x-request-id"]
    for error in errors:
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert error["extensions"]["requestId"] == request_id


async def test_unacceptable_accept_header_is_406(client: httpx.AsyncClient) -> None:
    response = await graphql(client, ME_QUERY, headers={"Accept": "text/csv"})
    assert response.status_code == 406
    body = response.json()
    assert "data" not in body
    assert len(body["errors"]) == 1
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "application/graphql-response+json" in body["errors"][0]["message"]


async def test_json_with_zero_quality_is_not_acceptable(client: httpx.AsyncClient) -> None:
    response = await graphql(client, ME_QUERY, headers={"Accept": f"{LEGACY_JSON};q=0"})
    assert response.status_code == 406


async def test_malformed_json_body_is_400_bad_user_input(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=b"{not json", headers={"Content-Type": LEGACY_JSON}
    )
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert error_codes(response) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == "Unable to parse request body as JSON"


async def test_success_carries_request_id_of_the_header(client: httpx.AsyncClient) -> None:
    response = await graphql(client, ME_QUERY)
    request_id = response.headers["x-request-id"]
    assert HEX_REQUEST_ID.fullmatch(request_id)
    assert response.json()["extensions"]["requestId"] == request_id


async def test_request_errors_carry_request_id_of_the_header(client: httpx.AsyncClient) -> None:
    refusals = [
        await graphql(client, "{ me { id "),
        await graphql(client, "{ nope }"),
        await graphql(client, ME_QUERY, headers={"Accept": "text/csv"}),
        await client.post("/graphql", content=b"[", headers={"Content-Type": LEGACY_JSON}),
        await client.post("/graphql", content=b"{}", headers={"Content-Type": "text/plain"}),
    ]
    for response in refusals:
        request_id = response.headers["x-request-id"]
        body = response.json()
        assert response.status_code >= 400, body
        assert body["extensions"]["requestId"] == request_id
        assert [error["extensions"]["requestId"] for error in body["errors"]] == [request_id]
        assert all(error["extensions"]["code"] for error in body["errors"])


# --- GET ------------------------------------------------------------------------------


async def test_query_via_get_is_executed(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql", params={"query": ME_QUERY}, headers={"Accept": GRAPHQL_RESPONSE_JSON}
    )
    assert response.status_code == 200
    assert media_type(response) == GRAPHQL_RESPONSE_JSON
    assert response.json()["data"] == {"me": None}


async def test_query_via_get_accepts_variables(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql",
        params={
            "query": "query($id: ID!) { node(id: $id) { id } }",
            "variables": json.dumps({"id": "VXNlcjo5OTk="}),
        },
        headers={"Accept": GRAPHQL_RESPONSE_JSON},
    )
    assert response.status_code == 200
    assert response.json()["data"] == {"node": None}


async def test_mutation_via_get_is_405_with_allow_header(client: httpx.AsyncClient) -> None:
    # The schema has no Mutation type yet; the view still refuses the operation type on GET
    # before validating it.
    response = await client.get(
        "/graphql", params={"query": "mutation { __typename }"}, headers={"Accept": "*/*"}
    )
    assert response.status_code == 405
    assert "POST" in [method.strip() for method in response.headers["allow"].split(",")]
    body = response.json()
    assert "data" not in body
    assert error_codes(response) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == "Only queries can be sent with GET; use POST"


async def test_mutation_via_get_is_405_under_legacy_json(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql", params={"query": "mutation { __typename }"}, headers={"Accept": LEGACY_JSON}
    )
    assert response.status_code == 405
    assert media_type(response) == LEGACY_JSON


async def test_batch_of_two_queries_answers_a_list_of_two_results(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql", json=[{"query": ME_QUERY}, {"query": "{ __typename }"}]
    )
    assert response.status_code == 200
    results = response.json()
    assert isinstance(results, list)
    assert [result["data"] for result in results] == [{"me": None}, {"__typename": "Query"}]
    request_id = response.headers["x-request-id"]
    assert [result["extensions"]["requestId"] for result in results] == [request_id] * 2


async def test_batch_answers_200_even_when_one_operation_fails(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/graphql", json=[{"query": ME_QUERY}, {"query": "{ nope }"}])
    assert response.status_code == 200
    first, second = response.json()
    assert first["data"] == {"me": None}
    assert "data" not in second
    assert [error["extensions"]["code"] for error in second["errors"]] == [
        "GRAPHQL_VALIDATION_FAILED"
    ]


async def test_batch_over_the_batch_limit_is_400_query_too_complex(
    client_factory: AppFactory,
) -> None:
    client = client_factory(query_max_batch=2)
    response = await client.post("/graphql", json=[{"query": "{ __typename }"}] * 3)
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert error_codes(response) == ["QUERY_TOO_COMPLEX"]
    [error] = body["errors"]
    assert error["message"] == "A batch of 3 operations is over the limit of 2"
    assert error["extensions"]["reason"] == "BATCH_TOO_LARGE"
    assert error["extensions"]["maximumBatchSize"] == 2


async def test_batch_at_the_batch_limit_is_executed(client_factory: AppFactory) -> None:
    client = client_factory(query_max_batch=2)
    response = await client.post("/graphql", json=[{"query": "{ __typename }"}] * 2)
    assert response.status_code == 200
    assert len(response.json()) == 2


async def test_batch_limit_is_not_the_operations_per_document_limit(
    client_factory: AppFactory,
) -> None:
    client = client_factory(query_max_operations=1, query_max_batch=3)
    response = await client.post("/graphql", json=[{"query": "{ __typename }"}] * 3)
    assert response.status_code == 200
    assert [result["data"] for result in response.json()] == [{"__typename": "Query"}] * 3


async def test_empty_batch_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json=[])
    assert response.status_code == 400
    assert "data" not in response.json()
    assert error_codes(response) == ["BAD_USER_INPUT"]


async def test_unknown_operation_name_in_a_batch_answers_its_own_error(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql",
        json=[{"query": "query A { me { id } }", "operationName": "B"}, {"query": ME_QUERY}],
    )
    assert response.status_code == 200
    first, second = response.json()
    assert "data" not in first
    assert [error["extensions"]["code"] for error in first["errors"]] == ["BAD_USER_INPUT"]
    assert first["errors"][0]["message"] == 'Unknown operation named "B".'
    assert second["data"] == {"me": None}


# --- subscriptions over HTTP ----------------------------------------------------------

SUBSCRIPTION = "subscription { postPublished { id } }"


def assert_refused_toward_the_websocket(response: httpx.Response) -> None:
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["reason"] == "SUBSCRIPTION_OVER_HTTP"
    assert "websocket" in error["message"]
    assert "graphql-transport-ws" in error["message"]
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]


async def test_subscription_over_post_is_refused_toward_the_websocket(
    client: httpx.AsyncClient,
) -> None:
    assert_refused_toward_the_websocket(await graphql(client, SUBSCRIPTION))


async def test_subscription_over_get_is_refused_toward_the_websocket(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/graphql", params={"query": SUBSCRIPTION})
    assert_refused_toward_the_websocket(response)


async def test_subscription_as_graphiql_would_post_it_is_refused_toward_the_websocket(
    client: httpx.AsyncClient,
) -> None:
    # GraphiQL sends subscriptions over its websocket; one it fails to recognise (a named
    # subscription without operationName) comes as its HTTP fetcher's POST.
    response = await client.post(
        "/graphql",
        json={"query": "subscription Feed { postPublished { id } }", "operationName": None},
        headers={"Accept": "application/json, multipart/mixed"},
    )
    assert_refused_toward_the_websocket(response)
    assert media_type(response) == LEGACY_JSON


async def test_subscription_in_a_batch_answers_its_own_error_and_the_others_run(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/graphql", json=[{"query": SUBSCRIPTION}, {"query": ME_QUERY}])
    assert response.status_code == 200
    first, second = response.json()
    assert "data" not in first
    [error] = first["errors"]
    assert error["extensions"]["reason"] == "SUBSCRIPTION_OVER_HTTP"
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    assert second["data"] == {"me": None}


# --- CSRF guard -----------------------------------------------------------------------


async def test_text_plain_post_without_csrf_header_is_refused(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql",
        content=json.dumps({"query": ME_QUERY}),
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert CSRF_MESSAGE in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_form_urlencoded_post_without_csrf_header_is_refused(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/graphql", data={"query": ME_QUERY})
    assert media_type_of_request(response) == "application/x-www-form-urlencoded"
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert CSRF_MESSAGE in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_multipart_post_without_csrf_header_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", files=multipart_operation(ME_QUERY))
    assert media_type_of_request(response) == "multipart/form-data"
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert CSRF_MESSAGE in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_post_without_content_type_or_csrf_header_is_refused(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/graphql", content=json.dumps({"query": ME_QUERY}))
    assert "content-type" not in response.request.headers
    assert response.status_code == 400
    assert CSRF_MESSAGE in response.json()["errors"][0]["message"]


async def test_empty_csrf_header_does_not_count(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", files=multipart_operation(ME_QUERY), headers={"X-Requested-With": ""}
    )
    assert response.status_code == 400
    assert CSRF_MESSAGE in response.json()["errors"][0]["message"]


async def test_multipart_with_x_requested_with_is_executed(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        files=multipart_operation(ME_QUERY),
        headers={"X-Requested-With": "XMLHttpRequest"},
    )
    assert media_type_of_request(response) == "multipart/form-data"
    assert response.status_code == 200
    assert response.json()["data"] == {"me": None}


async def test_multipart_with_apollo_require_preflight_is_executed(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql",
        files=multipart_operation(ME_QUERY),
        headers={"Apollo-Require-Preflight": "true"},
    )
    assert response.status_code == 200
    assert response.json()["data"] == {"me": None}


async def test_text_plain_with_csrf_header_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        content=json.dumps({"query": ME_QUERY}),
        headers={"Content-Type": "text/plain", "X-Requested-With": "XMLHttpRequest"},
    )
    assert response.status_code == 415
    assert "data" not in response.json()
    assert error_codes(response) == ["UNSUPPORTED_MEDIA_TYPE"]


async def test_non_simple_unknown_content_type_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=b"<query/>", headers={"Content-Type": "application/xml"}
    )
    assert response.status_code == 415
    assert error_codes(response) == ["UNSUPPORTED_MEDIA_TYPE"]


async def test_json_with_charset_needs_no_csrf_header(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        content=json.dumps({"query": ME_QUERY}),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200
    assert response.json()["data"] == {"me": None}


# --- request id -----------------------------------------------------------------------


async def test_sane_incoming_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await graphql(client, ME_QUERY, headers={"X-Request-ID": "abc-123-def-456"})
    assert response.headers["x-request-id"] == "abc-123-def-456"
    assert response.json()["extensions"]["requestId"] == "abc-123-def-456"


async def test_sane_incoming_request_id_is_echoed_in_errors(client: httpx.AsyncClient) -> None:
    response = await graphql(client, "{ nope }", headers={"X-Request-ID": "trace:0001.abc_DEF"})
    assert response.headers["x-request-id"] == "trace:0001.abc_DEF"
    assert response.json()["errors"][0]["extensions"]["requestId"] == "trace:0001.abc_DEF"


async def test_request_id_with_illegal_characters_is_replaced(client: httpx.AsyncClient) -> None:
    response = await graphql(
        client, ME_QUERY, headers={"X-Request-ID": "<script>alert(1)</script>"}
    )
    request_id = response.headers["x-request-id"]
    assert HEX_REQUEST_ID.fullmatch(request_id)
    assert response.json()["extensions"]["requestId"] == request_id


async def test_request_id_over_128_characters_is_replaced(client: httpx.AsyncClient) -> None:
    response = await graphql(client, ME_QUERY, headers={"X-Request-ID": "a" * 129})
    request_id = response.headers["x-request-id"]
    assert HEX_REQUEST_ID.fullmatch(request_id)
    assert response.json()["extensions"]["requestId"] == request_id


async def test_request_id_of_128_characters_is_kept(client: httpx.AsyncClient) -> None:
    incoming = "a" * 128
    response = await graphql(client, ME_QUERY, headers={"X-Request-ID": incoming})
    assert response.headers["x-request-id"] == incoming


async def test_request_id_shorter_than_8_characters_is_replaced(
    client: httpx.AsyncClient,
) -> None:
    response = await graphql(client, ME_QUERY, headers={"X-Request-ID": "abc"})
    assert HEX_REQUEST_ID.fullmatch(response.headers["x-request-id"])


async def test_request_id_is_generated_fresh_for_each_request(client: httpx.AsyncClient) -> None:
    first = await graphql(client, ME_QUERY)
    second = await graphql(client, ME_QUERY)
    first_id, second_id = first.headers["x-request-id"], second.headers["x-request-id"]
    assert HEX_REQUEST_ID.fullmatch(first_id)
    assert HEX_REQUEST_ID.fullmatch(second_id)
    assert first_id != second_id


async def test_request_id_is_set_on_non_graphql_routes(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live", headers={"X-Request-ID": "health-check-0001"})
    assert response.headers["x-request-id"] == "health-check-0001"


# --- security headers and GraphiQL ----------------------------------------------------


async def test_graphql_response_has_security_headers(client: httpx.AsyncClient) -> None:
    response = await graphql(client, ME_QUERY)
    assert response.headers["content-security-policy"] == API_CSP
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "server" not in response.headers


async def test_health_response_has_security_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == API_CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "server" not in response.headers


async def test_error_response_has_security_headers(client: httpx.AsyncClient) -> None:
    response = await graphql(client, ME_QUERY, headers={"Accept": "text/csv"})
    assert response.status_code == 406
    assert response.headers["content-security-policy"] == API_CSP
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_security_headers_middleware_removes_a_server_header() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("ok", headers={"Server": "leaky/1.0"})(scope, receive, send)

    wrapped = SecurityHeadersMiddleware(app, hsts=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=wrapped), base_url="http://testserver"
    ) as client:
        response = await client.get("/")
    assert response.text == "ok"
    assert "server" not in response.headers


async def test_security_headers_middleware_replaces_a_header_the_route_set() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = {"X-Frame-Options": "SAMEORIGIN"}
        await PlainTextResponse("ok", headers=headers)(scope, receive, send)

    wrapped = SecurityHeadersMiddleware(app, hsts=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=wrapped), base_url="http://testserver"
    ) as client:
        response = await client.get("/")
    assert response.headers.get_list("x-frame-options") == ["DENY"]
    assert response.headers["content-security-policy"] == API_CSP


async def test_security_headers_middleware_leaves_the_response_header_list_alone() -> None:
    sent_twice = PlainTextResponse("ok")
    own_headers = list(sent_twice.raw_headers)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await sent_twice(scope, receive, send)

    wrapped = SecurityHeadersMiddleware(app, hsts=True)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=wrapped), base_url="http://testserver"
    ) as client:
        first = await client.get("/")
        second = await client.get("/")
    assert sent_twice.raw_headers == own_headers
    assert first.headers.multi_items() == second.headers.multi_items()
    assert second.headers.get_list("x-content-type-options") == ["nosniff"]


async def test_no_hsts_outside_production(client: httpx.AsyncClient) -> None:
    response = await graphql(client, ME_QUERY)
    assert "strict-transport-security" not in response.headers


async def test_hsts_in_production_on_graphql(client_factory: AppFactory) -> None:
    client = production_client(client_factory)
    response = await graphql(client, ME_QUERY)
    assert response.status_code == 200
    assert response.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"


async def test_hsts_in_production_on_health(client_factory: AppFactory) -> None:
    client = production_client(client_factory)
    response = await client.get("/health/live")
    assert response.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"


async def test_graphiql_is_served_as_html_with_its_own_csp(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert media_type(response) == "text/html"
    assert "graphiql" in response.text.lower()
    assert response.headers.get_list("content-security-policy") == [
        response.headers["content-security-policy"]
    ]
    directives = {
        directive.split()[0]: directive.split()[1:]
        for directive in response.headers["content-security-policy"].split(";")
        if directive.strip()
    }
    assert any(source.startswith("'sha256-") for source in directives["script-src"])
    assert not any(source.startswith("https:") for source in directives["script-src"])
    assert "'unsafe-inline'" not in directives["script-src"]


async def test_graphiql_csp_hashes_every_inline_script(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    inline_scripts = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    assert inline_scripts
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]+>", response.text), (
        "an inline script with attributes would not be hashed"
    )
    csp = response.headers["content-security-policy"]
    for script in inline_scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp


async def test_graphiql_page_keeps_the_other_security_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_graphiql_is_not_served_in_production(client_factory: AppFactory) -> None:
    client = production_client(client_factory)
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert media_type(response) != "text/html"
    assert "<html" not in response.text.lower()
    assert error_codes(response) == ["NOT_FOUND"]


# --- CORS -----------------------------------------------------------------------------


async def test_preflight_from_allowed_origin_is_allowed(client_factory: AppFactory) -> None:
    client = client_factory(cors_allowed_origins=[APP_ORIGIN])
    response = await client.options(
        "/graphql",
        headers={"Origin": APP_ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    assert response.headers["access-control-allow-credentials"] == "true"


async def test_preflight_allows_the_headers_clients_need(client_factory: AppFactory) -> None:
    client = client_factory(cors_allowed_origins=[APP_ORIGIN])
    response = await client.options(
        "/graphql",
        headers={
            "Origin": APP_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": (
                "authorization, content-type, x-requested-with, apollo-require-preflight"
            ),
        },
    )
    assert response.status_code == 200
    allowed = {
        header.strip().lower()
        for header in response.headers["access-control-allow-headers"].split(",")
    }
    assert {
        "authorization",
        "content-type",
        "x-requested-with",
        "apollo-require-preflight",
    } <= allowed


async def test_preflight_from_foreign_origin_is_refused(client_factory: AppFactory) -> None:
    client = client_factory(cors_allowed_origins=[APP_ORIGIN])
    response = await client.options(
        "/graphql",
        headers={"Origin": EVIL_ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_post_from_allowed_origin_gets_allow_origin(client_factory: AppFactory) -> None:
    client = client_factory(cors_allowed_origins=[APP_ORIGIN])
    response = await graphql(client, ME_QUERY, headers={"Origin": APP_ORIGIN})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    exposed = {
        header.strip().lower()
        for header in response.headers["access-control-expose-headers"].split(",")
    }
    assert "x-request-id" in exposed


async def test_post_from_foreign_origin_gets_no_allow_origin(client_factory: AppFactory) -> None:
    client = client_factory(cors_allowed_origins=[APP_ORIGIN])
    response = await graphql(client, ME_QUERY, headers={"Origin": EVIL_ORIGIN})
    assert "access-control-allow-origin" not in response.headers


async def test_no_origin_is_allowed_by_default(client: httpx.AsyncClient) -> None:
    response = await graphql(client, ME_QUERY, headers={"Origin": APP_ORIGIN})
    assert "access-control-allow-origin" not in response.headers


# --- body size limit ------------------------------------------------------------------


def padded_json_body(size: int) -> bytes:
    """A valid GraphQL JSON request of exactly ``size`` bytes (padded with whitespace)."""
    body = json.dumps({"query": ME_QUERY}).encode()
    assert len(body) <= size
    return body + b" " * (size - len(body))


async def test_json_body_over_1_mb_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        content=padded_json_body(1_048_576 + 1),
        headers={"Content-Type": LEGACY_JSON},
    )
    assert response.request.headers["content-length"] == "1048577"
    assert response.status_code == 413
    assert media_type(response) == GRAPHQL_RESPONSE_JSON
    body = response.json()
    assert "data" not in body
    assert error_codes(response) == ["PAYLOAD_TOO_LARGE"]
    assert body["errors"][0]["message"] == "Request body is larger than the limit of 1048576 bytes"
    assert body["extensions"]["requestId"] == response.headers["x-request-id"]


async def test_json_body_at_the_limit_is_accepted(client_factory: AppFactory) -> None:
    client = client_factory(max_json_body_bytes=2048)
    response = await client.post(
        "/graphql", content=padded_json_body(2048), headers={"Content-Type": LEGACY_JSON}
    )
    assert response.status_code == 200
    assert response.json()["data"] == {"me": None}


async def test_streamed_body_over_the_limit_is_413(client_factory: AppFactory) -> None:
    client = client_factory(max_json_body_bytes=2048)
    body = padded_json_body(4096)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 512):
            yield body[start : start + 512]

    response = await client.post(
        "/graphql", content=chunks(), headers={"Content-Type": LEGACY_JSON}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert error_codes(response) == ["PAYLOAD_TOO_LARGE"]
    assert "2048 bytes" in response.json()["errors"][0]["message"]


async def test_streamed_body_under_the_limit_is_executed(client_factory: AppFactory) -> None:
    client = client_factory(max_json_body_bytes=2048)
    body = padded_json_body(2000)

    async def chunks() -> AsyncIterator[bytes]:
        yield body[:1000]
        yield body[1000:]

    response = await client.post(
        "/graphql", content=chunks(), headers={"Content-Type": LEGACY_JSON}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 200
    assert response.json()["data"] == {"me": None}


async def test_multipart_body_has_its_own_larger_limit(client_factory: AppFactory) -> None:
    client = client_factory(max_json_body_bytes=2048)
    files: dict[str, tuple[str | None, bytes | str]] = {
        **multipart_operation(ME_QUERY),
        "padding": ("padding.txt", b"p" * 8192),
    }
    response = await client.post(
        "/graphql", files=files, headers={"X-Requested-With": "XMLHttpRequest"}
    )
    assert int(response.request.headers["content-length"]) > 2048
    assert response.status_code == 200
    assert response.json()["data"] == {"me": None}


# --- compression ----------------------------------------------------------------------

LARGE_QUERY = "{ __schema { types { name description fields { name } } } }"


async def test_large_response_is_gzipped(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json={"query": LARGE_QUERY},
        headers={"Accept-Encoding": "gzip"},
    )
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["vary"]
    assert len(response.content) > 1024  # decoded by httpx
    assert int(response.headers["content-length"]) < len(response.content)
    assert response.json()["data"]["__schema"]["types"]


async def test_gzipped_body_decompresses_to_the_json_result(client: httpx.AsyncClient) -> None:
    async with client.stream(
        "POST", "/graphql", json={"query": LARGE_QUERY}, headers={"Accept-Encoding": "gzip"}
    ) as response:
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
    names = {t["name"] for t in json.loads(gzip.decompress(raw))["data"]["__schema"]["types"]}
    assert {"Query", "User"} <= names


async def test_small_response_is_not_gzipped(client: httpx.AsyncClient) -> None:
    response = await graphql(client, ME_QUERY, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert len(response.content) < 1024
    assert "content-encoding" not in response.headers


async def test_large_response_is_not_gzipped_without_accept_encoding(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql", json={"query": LARGE_QUERY}, headers={"Accept-Encoding": "identity"}
    )
    assert response.status_code == 200
    assert len(response.content) > 1024
    assert "content-encoding" not in response.headers


async def test_graphiql_loads_its_assets_from_this_server(client: httpx.AsyncClient) -> None:
    page = (await client.get("/graphql", headers={"Accept": "text/html"})).text
    assets = [
        asset
        for asset in re.findall(r'(?:src|href)="([^"]+)"', page)
        if not asset.startswith("data:")  # the inline favicon
    ]
    assert len(assets) == 7
    assert all(asset.startswith("/graphiql-assets/") for asset in assets)
    for asset in assets:
        response = await client.get(asset)
        assert response.status_code == 200, asset


async def test_graphiql_assets_are_not_served_in_production(client_factory: AppFactory) -> None:
    client = production_client(client_factory)
    response = await client.get("/graphiql-assets/graphiql.min.js")
    assert response.status_code == 404
