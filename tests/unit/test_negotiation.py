"""The response format chosen for an Accept header (GraphQL-over-HTTP content negotiation)."""

from __future__ import annotations

import pytest

from server.negotiation import LEGACY, MODERN, UNSPECIFIED, ResponseFormat, negotiate

CASES: dict[str, tuple[str | None, ResponseFormat | None]] = {
    "no header": (None, UNSPECIFIED),
    "empty header": ("  ", UNSPECIFIED),
    "any": ("*/*", UNSPECIFIED),
    "any application type": ("application/*", UNSPECIFIED),
    "a browser's default": ("text/html,application/xhtml+xml,*/*;q=0.8", UNSPECIFIED),
    "graphql-response+json": ("application/graphql-response+json", MODERN),
    "both, the spec's recommendation": (
        "application/graphql-response+json, application/json;q=0.9",
        MODERN,
    ),
    "both at the same quality": ("application/json, application/graphql-response+json", MODERN),
    "json preferred": ("application/graphql-response+json;q=0.5, application/json", LEGACY),
    "json only": ("application/json", LEGACY),
    "GraphiQL's fetcher": ("application/json, multipart/mixed", LEGACY),
    "graphql-response+json named beside any": (
        "application/graphql-response+json, */*;q=0.1",
        MODERN,
    ),
    "graphql-response+json refused, any else": (
        "application/graphql-response+json;q=0, */*",
        LEGACY,
    ),
    "neither": ("text/csv", None),
    "json at quality zero": ("application/json;q=0", None),
}


@pytest.mark.parametrize(("accept", "expected"), CASES.values(), ids=CASES.keys())
def test_negotiated_format(accept: str | None, expected: ResponseFormat | None) -> None:
    assert negotiate(accept) == expected


def test_unspecified_answers_json_on_success_and_graphql_response_json_otherwise() -> None:
    assert UNSPECIFIED.media_type(200) == "application/json"
    assert UNSPECIFIED.media_type(400) == "application/graphql-response+json"
    assert not UNSPECIFIED.request_errors_as_200


def test_only_an_explicit_legacy_client_gets_request_errors_as_200() -> None:
    assert LEGACY.request_errors_as_200
    assert not MODERN.request_errors_as_200
