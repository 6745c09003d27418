"""Malformed GraphQL-over-HTTP requests: JSON bodies of the wrong shape, bad parameter types,
GET query strings, multipart `operations`/`map`, batches. Whatever the body, the answer is
never a 5xx and always the error contract: JSON with `errors[].message`,
`errors[].extensions.code` (never INTERNAL_SERVER_ERROR) and the request id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from services.errors import ErrorCode

ME = "{ me { id } }"
ME_JSON = json.dumps({"query": ME})
CSRF = {"X-Requested-With": "XMLHttpRequest"}
FILE = ("a.txt", b"hello", "text/plain")
DEEP = 100_000
DEEP_IN_URL = 20_000  # httpx refuses a query string over 64 KiB
CODES = {code.value for code in ErrorCode} - {ErrorCode.INTERNAL_SERVER_ERROR.value}


Params = list[tuple[str, str | int | float | bool | None]]


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str  # a part of the message of the first error


def refusal(message: str, status: int = 400, code: str = "BAD_USER_INPUT") -> Refusal:
    return Refusal(status, code, message)


def assert_error_contract(response: httpx.Response) -> list[dict[str, Any]]:
    """The response is JSON in the error contract; its errors (of every batch result)."""
    assert response.status_code < 500, response.text
    request_id = response.headers["x-request-id"]
    body = response.json()
    results = body if isinstance(body, list) else [body]
    errors = []
    for result in results:
        assert result["extensions"]["requestId"] == request_id
        for error in result.get("errors", []):
            assert isinstance(error["message"], str)
            assert error["message"]
            assert error["extensions"]["code"] in CODES, error
            assert error["extensions"]["requestId"] == request_id
            errors.append(error)
    assert errors, body
    return errors


def assert_refused(response: httpx.Response, expected: Refusal) -> None:
    errors = assert_error_contract(response)
    assert response.status_code == expected.status, response.text
    assert "data" not in response.json()
    assert errors[0]["extensions"]["code"] == expected.code
    assert expected.message in errors[0]["message"]


# --- POST application/json --------------------------------------------------------------

JSON_BODIES: dict[str, tuple[bytes, Refusal]] = {
    "null": (b"null", refusal("not null")),
    "true": (b"true", refusal("not a boolean")),
    "number": (b"123", refusal("not a number")),
    "float": (b"-1.5e3", refusal("not a number")),
    "string": (b'"{ me { id } }"', refusal("not a string")),
    "list of a number": (b"[1]", refusal("Operation 1 of the batch must be a JSON object")),
    "list of null": (b"[null]", refusal("Operation 1 of the batch must be a JSON object")),
    "list of a list": (b"[[]]", refusal("not a list")),
    "list of a string": (b'["{ me { id } }"]', refusal("not a string")),
    "valid then bad element": (
        f"[{ME_JSON}, 1]".encode(),
        refusal("Operation 2 of the batch must be a JSON object"),
    ),
    "empty batch": (b"[]", refusal("at least one operation")),
    "batch over the limit": (
        f"[{','.join([ME_JSON] * 11)}]".encode(),
        refusal("over the limit of 10", code="QUERY_TOO_COMPLEX"),
    ),
    "unclosed nested arrays": (b"[" * DEEP, refusal("Unable to parse")),
    "deeply nested arrays": (b"[" * DEEP + b"]" * DEEP, refusal("Unable to parse")),
    "deeply nested objects": (b'{"a":' * DEEP + b"1" + b"}" * DEEP, refusal("Unable to parse")),
    "empty body": (b"", refusal("Unable to parse")),
    "trailing garbage": (ME_JSON.encode() + b" x", refusal("Unable to parse")),
    "invalid utf-8": (b'{"query": "\xff"}', refusal("Unable to parse")),
    "lone surrogate": (b'{"query": "\\ud800"}', refusal("Unable to parse")),
    "no query": (b"{}", refusal("No GraphQL query")),
    "null query": (b'{"query": null}', refusal("No GraphQL query")),
    "empty query": (b'{"query": ""}', refusal("No GraphQL query")),
    "number query": (b'{"query": 1}', refusal("`query` must be a string")),
    "object query": (b'{"query": {}}', refusal("`query` must be a string")),
    "list query": (b'{"query": ["{ me { id } }"]}', refusal("`query` must be a string")),
    "boolean query": (b'{"query": true}', refusal("`query` must be a string")),
    "number operationName": (
        json.dumps({"query": ME, "operationName": 1}).encode(),
        refusal("`operationName` must be a string or null, not a number"),
    ),
    "list operationName": (
        json.dumps({"query": ME, "operationName": ["x"]}).encode(),
        refusal("`operationName` must be a string or null, not a list"),
    ),
    "object operationName": (
        json.dumps({"query": ME, "operationName": {}}).encode(),
        refusal("`operationName` must be a string"),
    ),
    "boolean operationName": (
        json.dumps({"query": ME, "operationName": False}).encode(),
        refusal("`operationName` must be a string"),
    ),
    "unknown operationName": (
        json.dumps({"query": ME, "operationName": "Nope"}).encode(),
        refusal('Unknown operation named "Nope"'),
    ),
    "list variables": (
        json.dumps({"query": ME, "variables": [1]}).encode(),
        refusal("`variables` must be an object or null, not a list"),
    ),
    "string variables": (
        json.dumps({"query": ME, "variables": '{"a": 1}'}).encode(),
        refusal("`variables` must be an object"),
    ),
    "number variables": (
        json.dumps({"query": ME, "variables": 0}).encode(),
        refusal("`variables` must be an object"),
    ),
    "list extensions": (
        json.dumps({"query": ME, "extensions": []}).encode(),
        refusal("`extensions` must be an object or null, not a list"),
    ),
    "string extensions": (
        json.dumps({"query": ME, "extensions": "x"}).encode(),
        refusal("`extensions` must be an object"),
    ),
    "batch element with a number query": (
        b'[{"query": 1}]',
        refusal("Operation 1 of the batch: `query` must be a string"),
    ),
    "batch element with a list operationName": (
        json.dumps([{"query": ME}, {"query": ME, "operationName": ["x"]}]).encode(),
        refusal("Operation 2 of the batch: `operationName` must be a string"),
    ),
    "batch element with list variables": (
        json.dumps([{"query": ME, "variables": [1]}]).encode(),
        refusal("Operation 1 of the batch: `variables` must be an object"),
    ),
    "batch element with number extensions": (
        json.dumps([{"query": ME, "extensions": 1}]).encode(),
        refusal("Operation 1 of the batch: `extensions` must be an object"),
    ),
    "subscription": (
        json.dumps({"query": "subscription { postPublished { id } }"}).encode(),
        refusal("open a websocket"),
    ),
}


@pytest.mark.parametrize(("body", "expected"), JSON_BODIES.values(), ids=JSON_BODIES.keys())
async def test_malformed_json_body_is_refused_in_the_error_contract(
    client: httpx.AsyncClient, body: bytes, expected: Refusal
) -> None:
    response = await client.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert_refused(response, expected)


@pytest.mark.parametrize(
    "body", [b"null", b"[1]", b'{"query": "{ me { id } }", "operationName": 1}']
)
async def test_malformed_body_is_400_under_legacy_json_too(
    client: httpx.AsyncClient, body: bytes
) -> None:
    response = await client.post(
        "/graphql",
        content=body,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert_error_contract(response)


async def test_empty_operation_name_means_none(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": ME, "operationName": ""})
    assert response.status_code == 200
    assert response.json()["data"] == {"me": None}


async def test_batch_element_refused_before_execution_answers_its_own_error(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/graphql", json=[{"query": ME}, {}])
    assert response.status_code == 200
    [error] = assert_error_contract(response)
    assert error["message"] == "No GraphQL query found in the request"
    assert response.json()[0]["data"] == {"me": None}


# --- GET --------------------------------------------------------------------------------

QUERY_STRINGS: dict[str, tuple[Params, Refusal]] = {
    "list variables": ([("query", ME), ("variables", "[1]")], refusal("`variables` must be")),
    "number variables": ([("query", ME), ("variables", "1")], refusal("`variables` must be")),
    "string variables": ([("query", ME), ("variables", '"x"')], refusal("`variables` must be")),
    "variables not JSON": (
        [("query", ME), ("variables", "{id: 1}")],
        refusal("The `variables` parameter is not valid JSON"),
    ),
    "deeply nested variables": (
        [("query", ME), ("variables", "[" * DEEP_IN_URL)],
        refusal("The `variables` parameter is not valid JSON"),
    ),
    "list extensions": ([("query", ME), ("extensions", "[]")], refusal("`extensions` must be")),
    "extensions not JSON": (
        [("query", ME), ("extensions", "nope")],
        refusal("The `extensions` parameter is not valid JSON"),
    ),
    "repeated query": (
        [("query", ME), ("query", "{ __typename }")],
        refusal("The `query` parameter is given 2 times"),
    ),
    "repeated operationName": (
        [("query", "query A { me { id } }"), ("operationName", "A"), ("operationName", "A")],
        refusal("The `operationName` parameter is given 2 times"),
    ),
    "repeated variables": (
        [("query", ME), ("variables", "{}"), ("variables", "{}")],
        refusal("The `variables` parameter is given 2 times"),
    ),
    "no query": ([("variables", "{}")], refusal("No GraphQL query")),
    "empty query": ([("query", "")], refusal("No GraphQL query")),
    "unknown operationName": (
        [("query", ME), ("operationName", "Nope")],
        refusal('Unknown operation named "Nope"'),
    ),
    "mutation": (
        [("query", "mutation { logoutAll }")],
        refusal("Only queries can be sent with GET", status=405),
    ),
    "subscription": (
        [("query", "subscription { postPublished { id } }")],
        refusal("open a websocket"),
    ),
}


@pytest.mark.parametrize(("params", "expected"), QUERY_STRINGS.values(), ids=QUERY_STRINGS.keys())
async def test_malformed_get_is_refused_in_the_error_contract(
    client: httpx.AsyncClient, params: Params, expected: Refusal
) -> None:
    response = await client.get(
        "/graphql", params=params, headers={"Accept": "application/graphql-response+json"}
    )
    assert_refused(response, expected)


@pytest.mark.parametrize(
    "params",
    [
        [("query", ME), ("operationName", "")],
        [("query", ME), ("variables", "")],
        [("query", ME), ("extensions", "")],
        [("query", ME), ("variables", "null")],
    ],
    ids=["empty operationName", "empty variables", "empty extensions", "null variables"],
)
async def test_empty_or_null_get_parameters_mean_none(
    client: httpx.AsyncClient, params: Params
) -> None:
    response = await client.get("/graphql", params=params)
    assert response.status_code == 200
    assert response.json()["data"] == {"me": None}


# --- multipart ----------------------------------------------------------------------------

Parts = dict[str, tuple[str | None, bytes | str] | tuple[str, bytes, str]]
MULTIPART: dict[str, tuple[Parts, Refusal]] = {
    "null operations": (
        {"operations": (None, "null"), "map": (None, "{}")},
        refusal("not null"),
    ),
    "number operations": ({"operations": (None, "1"), "map": (None, "{}")}, refusal("number")),
    "string operations": (
        {"operations": (None, '"{ me { id } }"'), "map": (None, "{}")},
        refusal("not a string"),
    ),
    "list of a number": (
        {"operations": (None, "[1]"), "map": (None, "{}")},
        refusal("Operation 1 of the batch must be a JSON object"),
    ),
    "operations not JSON": (
        {"operations": (None, "{query"), "map": (None, "{}")},
        refusal("The multipart `operations` field is not valid JSON"),
    ),
    "operations as a file": (
        {"operations": ("ops.json", ME_JSON.encode(), "application/json"), "map": (None, "{}")},
        refusal("The multipart `operations` field must be JSON text, not a file"),
    ),
    "no operations": ({"map": (None, "{}"), "0": FILE}, refusal("needs an `operations` field")),
    "number operationName": (
        {"operations": (None, json.dumps({"query": ME, "operationName": 1})), "map": (None, "{}")},
        refusal("`operationName` must be a string"),
    ),
    "null map": (
        {"operations": (None, ME_JSON), "map": (None, "null"), "0": FILE},
        refusal("The multipart `map` must be an object"),
    ),
    "list map": (
        {"operations": (None, ME_JSON), "map": (None, "[1]"), "0": FILE},
        refusal("The multipart `map` must be an object"),
    ),
    "string map": (
        {"operations": (None, ME_JSON), "map": (None, '"0"'), "0": FILE},
        refusal("The multipart `map` must be an object"),
    ),
    "map not JSON": (
        {"operations": (None, ME_JSON), "map": (None, "{0: 1}"), "0": FILE},
        refusal("The multipart `map` field is not valid JSON"),
    ),
    "map entry not a list": (
        {"operations": (None, ME_JSON), "map": (None, '{"0": "variables.file"}'), "0": FILE},
        refusal("must be a list of paths"),
    ),
    "map path not a string": (
        {"operations": (None, ME_JSON), "map": (None, '{"0": [1]}'), "0": FILE},
        refusal("must be a list of paths"),
    ),
    "map names a missing part": (
        {"operations": (None, ME_JSON), "map": (None, '{"1": ["variables.file"]}'), "0": FILE},
        refusal("names '1', which is not a file part"),
    ),
    "map names a text field": (
        {"operations": (None, ME_JSON), "map": (None, '{"operations": ["variables.file"]}')},
        refusal("names 'operations', which is not a file part"),
    ),
    "map path into nothing": (
        {"operations": (None, ME_JSON), "map": (None, '{"0": ["nowhere.file"]}'), "0": FILE},
        refusal("path 'nowhere.file' does not lead"),
    ),
    "map path into a string": (
        {"operations": (None, ME_JSON), "map": (None, '{"0": ["query.file"]}'), "0": FILE},
        refusal("path 'query.file' does not lead"),
    ),
    "map path past the batch": (
        {"operations": (None, f"[{ME_JSON}]"), "map": (None, '{"0": ["1.query"]}'), "0": FILE},
        refusal("path '1.query' does not lead"),
    ),
    "map path with a negative index": (
        {"operations": (None, f"[{ME_JSON}]"), "map": (None, '{"0": ["-1.query"]}'), "0": FILE},
        refusal("path '-1.query' does not lead"),
    ),
    "file in place of variables": (
        {"operations": (None, ME_JSON), "map": (None, '{"0": ["variables"]}'), "0": FILE},
        refusal("`variables` must be an object or null, not a file"),
    ),
    "file in place of the query": (
        {"operations": (None, ME_JSON), "map": (None, '{"0": ["query"]}'), "0": FILE},
        refusal("`query` must be a string or null, not a file"),
    ),
}


@pytest.mark.parametrize(("parts", "expected"), MULTIPART.values(), ids=MULTIPART.keys())
async def test_malformed_multipart_is_refused_in_the_error_contract(
    client: httpx.AsyncClient, parts: Parts, expected: Refusal
) -> None:
    response = await client.post("/graphql", files=parts, headers=CSRF)
    assert response.request.headers["content-type"].startswith("multipart/form-data")
    assert_refused(response, expected)


async def test_multipart_batch_gets_its_file_by_index(client: httpx.AsyncClient) -> None:
    operations = [{"query": ME}, {"query": "{ __typename }", "variables": {"file": None}}]
    response = await client.post(
        "/graphql",
        files={
            "operations": (None, json.dumps(operations)),
            "map": (None, '{"0": ["1.variables.file"]}'),
            "0": FILE,
        },
        headers=CSRF,
    )
    assert response.status_code == 200
    assert [result["data"] for result in response.json()] == [
        {"me": None},
        {"__typename": "Query"},
    ]
