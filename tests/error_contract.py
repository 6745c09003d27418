"""The error contract every answer of /graphql keeps (README "Errors" and "The GraphQL
endpoint"), as one check the fuzz tests apply to whatever they sent.

- never an HTTP 5xx, always a JSON body (an object, or a list of objects for a batch);
- every result carries ``extensions.requestId``, the ``X-Request-ID`` header's value, except
  a cacheable GET answer (``Cache-Control`` other than ``no-store``), which may be served to
  others later and is therefore exactly ``{"data": …}`` with a strong ``ETag``;
- every error has a ``message``, an ``extensions.code`` from the ErrorCode enum (never
  INTERNAL_SERVER_ERROR) and the same ``extensions.requestId``;
- a request error (stopped before execution) has no ``data`` key; under
  ``application/graphql-response+json`` it answers 4xx (under ``application/json`` 200 or,
  for a request that is not well-formed, 4xx); a 4xx other than 429 (throttled logins
  answer 429 with ``data``) is always a request error.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from services.errors import ErrorCode

JSON_MEDIA_TYPES = frozenset({"application/graphql-response+json", "application/json"})
ERROR_CODES = frozenset(code.value for code in ErrorCode) - {ErrorCode.INTERNAL_SERVER_ERROR.value}


def contract_violations(response: httpx.Response) -> list[str]:
    """What is wrong with ``response`` (empty when it keeps the contract)."""
    status = response.status_code
    if status >= 500:
        return [f"HTTP {status}"]
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    if media_type not in JSON_MEDIA_TYPES:
        return [f"media type {media_type!r} is not JSON"]
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return ["the body is not JSON"]
    request_id = response.headers.get("x-request-id")
    if not request_id:
        return ["no X-Request-ID header"]
    if response.headers.get("cache-control", "no-store") != "no-store":
        return _cacheable_violations(response, body)
    if isinstance(body, list):
        if status != 200:
            return [f"a batch answered HTTP {status}"]
        return [
            f"[{index}] {problem}"
            for index, result in enumerate(body)
            for problem in _result_violations(result, request_id, status=None, legacy=False)
        ]
    return _result_violations(
        body, request_id, status=status, legacy=media_type == "application/json"
    )


def _cacheable_violations(response: httpx.Response, body: Any) -> list[str]:
    problems: list[str] = []
    if response.request.method != "GET" or response.status_code != 200:
        problems.append(f"a {response.request.method} answered {response.status_code} cacheable")
    if not isinstance(body, dict) or set(body) != {"data"}:
        problems.append("a cacheable body is not exactly {data}")
    if not response.headers.get("etag", "").startswith('"'):
        problems.append("a cacheable answer has no strong ETag")
    return problems


def _result_violations(
    result: Any, request_id: str, *, status: int | None, legacy: bool
) -> list[str]:
    """``status`` is None for a result inside a batch (the batch answers 200 as a whole)."""
    if not isinstance(result, dict):
        return [f"the result is a {type(result).__name__}, not an object"]
    problems: list[str] = []
    if _get(result, "extensions", "requestId") != request_id:
        problems.append("extensions.requestId is not the X-Request-ID header")
    errors = result.get("errors")
    if errors is not None and (not isinstance(errors, list) or not errors):
        problems.append("errors is present but not a non-empty list")
        errors = None
    for index, error in enumerate(errors or []):
        problems.extend(f"errors[{index}]: {p}" for p in _error_violations(error, request_id))
    request_error = "data" not in result
    if request_error and not errors:
        problems.append("no data and no errors")
    if status is not None:
        if request_error and not legacy and status < 400:
            problems.append(f"a request error answered HTTP {status}")
        if not request_error and 400 <= status != 429:
            problems.append(f"HTTP {status} with a data key")
    return problems


def _error_violations(error: Any, request_id: str) -> list[str]:
    if not isinstance(error, dict):
        return ["not an object"]
    problems: list[str] = []
    if not isinstance(error.get("message"), str):
        problems.append("no message")
    code = _get(error, "extensions", "code")
    if code not in ERROR_CODES:
        problems.append(f"extensions.code {code!r}: {error.get('message')!r}")
    if _get(error, "extensions", "requestId") != request_id:
        problems.append("extensions.requestId is not the X-Request-ID header")
    return problems


def _get(mapping: dict[str, Any], *keys: str) -> Any:
    value: Any = mapping
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def assert_error_contract(response: httpx.Response) -> None:
    problems = contract_violations(response)
    assert not problems, (
        f"{'; '.join(problems)}\nrequest: {response.request.method} {response.request.url} "
        f"{response.request.content[:2000]!r}\n"
        f"response: HTTP {response.status_code} {response.text[:2000]}"
    )
