"""Content negotiation and the CSRF guard for the GraphQL endpoint (GraphQL-over-HTTP)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from starlette.datastructures import Headers

from server.responses import GRAPHQL_RESPONSE_JSON, LEGACY_JSON
from services.errors import BadUserInput, UnsupportedMediaType

JSON_BODY_TYPES = frozenset({"application/json", GRAPHQL_RESPONSE_JSON})
# Bodies a browser sends cross-site without a CORS preflight.
SIMPLE_BODY_TYPES = frozenset(
    {"multipart/form-data", "application/x-www-form-urlencoded", "text/plain", ""}
)
# Apollo Server 4's recommended CSRF-prevention headers (packages/server/src/preventCsrf.ts):
# Apollo Client sends the first when told to, Apollo iOS and Kotlin always send the second.
APOLLO_CSRF_HEADERS = ("apollo-require-preflight", "x-apollo-operation-name")


def csrf_headers(csrf_header: str) -> tuple[str, ...]:
    """The headers of which one, non-empty, makes a simple-body POST CSRF-safe: a browser
    sends a custom header cross-origin only after a CORS preflight allowed it."""
    return (csrf_header.lower(), *APOLLO_CSRF_HEADERS)


def _ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media:
            ranges.append((media.lower(), quality))
    return ranges


def _match(candidate: str, ranges: list[tuple[str, float]]) -> tuple[int, float]:
    """The specificity (2 named, 1 ``type/*``, 0 ``*/*``, -1 none) and quality of the most
    specific range matching ``candidate``."""
    major = candidate.split("/")[0]
    best: tuple[int, float] = (-1, 0.0)
    for media, quality in ranges:
        specificity = {candidate: 2, f"{major}/*": 1, "*/*": 0}.get(media, -1)
        if specificity > best[0]:
            best = (specificity, quality)
    return best


@dataclass(frozen=True, slots=True)
class ResponseFormat:
    """How to answer a request: the media type of 2xx answers and of the others, and whether
    GraphQL request errors (parse, validation, limits) answer 200 instead of 4xx."""

    success_type: str
    error_type: str
    request_errors_as_200: bool

    def media_type(self, status: int) -> str:
        return self.success_type if status < 300 else self.error_type


# Asked for by name (or preferred): the spec's status codes.
MODERN = ResponseFormat(GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE_JSON, request_errors_as_200=False)
# Only application/json acceptable: a legacy client, whose GraphQL request errors answer 200
# (HTTP-level refusals keep their status: see the view).
LEGACY = ResponseFormat(LEGACY_JSON, LEGACY_JSON, request_errors_as_200=True)
# No Accept, or only wildcards: the spec's status codes, but a 2xx says application/json, as
# the spec asks for clients that may be legacy (a 4xx keeps application/graphql-response+json,
# which tells such a client the body is still a GraphQL response).
UNSPECIFIED = ResponseFormat(LEGACY_JSON, GRAPHQL_RESPONSE_JSON, request_errors_as_200=False)


def negotiate(accept: str | None) -> ResponseFormat | None:
    """The response format for ``Accept``; None when neither JSON type is acceptable."""
    if not accept or not accept.strip():
        return UNSPECIFIED
    ranges = _ranges(accept)
    (modern_specificity, modern), (legacy_specificity, legacy) = (
        _match(GRAPHQL_RESPONSE_JSON, ranges),
        _match(LEGACY_JSON, ranges),
    )
    if modern <= 0 and legacy <= 0:
        return None
    if modern_specificity < 2 and legacy_specificity < 2:
        return UNSPECIFIED
    return MODERN if modern >= legacy else LEGACY


def body_type(headers: Mapping[str, str]) -> str:
    return headers.get("content-type", "").split(";")[0].strip().lower()


def check_post_body(headers: Headers, csrf_header: str) -> None:
    """Refuse bodies a browser could send cross-site without a preflight unless they carry
    the preflight header (CSRF), and bodies the endpoint does not read at all."""
    content_type = body_type(headers)
    if content_type in JSON_BODY_TYPES:
        return
    if content_type in SIMPLE_BODY_TYPES:
        accepted = csrf_headers(csrf_header)
        if not any(headers.get(name, "").strip() for name in accepted):
            raise BadUserInput(
                f"This request has been blocked as a potential cross-site request forgery: "
                f"a {content_type or 'body without a content type'} POST must carry a "
                f"non-empty '{csrf_header}' header (or one of "
                f"{', '.join(repr(name) for name in APOLLO_CSRF_HEADERS)})",
                reason="CSRF",
            )
        if content_type == "multipart/form-data":
            return
    raise UnsupportedMediaType(
        f"Unsupported content type '{content_type}': send application/json "
        "(or multipart/form-data for uploads)"
    )
