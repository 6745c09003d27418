"""Reading incremental responses (``@defer``/``@stream``) as the clients do: the
``multipart/mixed`` body split into its JSON payloads, and the payloads merged into one
result by the rules of each format (Apollo Client's ``Defer20220824Handler`` and
``GraphQL17Alpha9Handler``)."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx

PART_HEADERS = "Content-Type: application/json; charset=utf-8"
# What Apollo Client 4 sends for an operation with @defer, with each of its handlers.
APOLLO_ACCEPT = "application/graphql-response+json,application/json;q=0.9"
DEFER_SPEC = f"multipart/mixed;deferSpec=20220824,{APOLLO_ACCEPT}"
INCREMENTAL_SPEC = f"multipart/mixed;incrementalSpec=v0.2,{APOLLO_ACCEPT}"


def payloads_of_body(body: str) -> list[dict[str, Any]]:
    """The JSON payloads of a multipart body with boundary ``-``; every part has the JSON
    content type, the body starts with a delimiter and ends with the closing one."""
    assert body.startswith("\r\n---\r\n"), body[:40]
    assert body.endswith("\r\n-----\r\n"), body[-40:]
    parts = body[len("\r\n---") : -len("\r\n-----\r\n")].split("\r\n---")
    payloads = []
    for part in parts:
        headers, separator, content = part.partition("\r\n\r\n")
        assert separator, part
        assert headers == "\r\n" + PART_HEADERS, headers
        payloads.append(json.loads(content))
    return payloads


def payloads_of(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith('multipart/mixed; boundary="-"')
    return payloads_of_body(response.text)


def _at(data: Any, path: list[Any]) -> Any:
    for key in path:
        data = data[key]
    return data


def _deep_merge(target: dict[str, Any], data: dict[str, Any]) -> None:
    for key, value in data.items():
        if isinstance(target.get(key), dict) and isinstance(value, dict):
            _deep_merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _put_items(target: list[Any], start: int, items: list[Any]) -> None:
    for offset, item in enumerate(items):
        index = start + offset
        if index == len(target):
            target.append(item)
        else:
            target[index] = item


def merged_defer_spec(payloads: list[dict[str, Any]]) -> dict[str, Any]:
    """deferSpec=20220824: ``{data, path}`` merged at ``path``; ``{items, path}`` placed
    from the index that ends ``path``."""
    first, *rest = payloads
    data = copy.deepcopy(first["data"])
    errors = list(first.get("errors", []))
    for payload in rest:
        assert set(payload) <= {"hasNext", "incremental", "extensions"}, payload
        for entry in payload.get("incremental", []):
            path = entry["path"]
            if "items" in entry:
                if entry["items"] is not None:
                    _put_items(_at(data, path[:-1]), path[-1], entry["items"])
            elif entry["data"] is not None:
                _deep_merge(_at(data, path), entry["data"])
            errors.extend(entry.get("errors", []))
    return {"data": data, "errors": errors}


def merged_incremental_spec(payloads: list[dict[str, Any]]) -> dict[str, Any]:
    """incrementalSpec=v0.2: entries by pending ``id``, deferred data at the pending path
    plus ``subPath``, streamed items appended to the pending list, failures in
    ``completed``."""
    first, *rest = payloads
    data = copy.deepcopy(first["data"])
    errors = list(first.get("errors", []))
    pending = {record["id"]: record["path"] for record in first.get("pending", [])}
    for payload in rest:
        for record in payload.get("pending", []):
            pending[record["id"]] = record["path"]
        for entry in payload.get("incremental", []):
            path = pending[entry["id"]] + entry.get("subPath", [])
            if "items" in entry:
                _at(data, path).extend(entry["items"])
            else:
                _deep_merge(_at(data, path), entry["data"])
            errors.extend(entry.get("errors", []))
        for completed in payload.get("completed", []):
            errors.extend(completed.get("errors", []))
            del pending[completed["id"]]
    assert not pending, f"never completed: {pending}"
    return {"data": data, "errors": errors}
