"""Content negotiation and the CSRF guard for the GraphQL endpoint (GraphQL-over-HTTP)."""

from __future__ import annotations

from starlette.datastructures import Headers

from server.responses import GRAPHQL_RESPONSE_JSON, LEGACY_JSON
from services.errors import BadUserInput, UnsupportedMediaType

JSON_BODY_TYPES = frozenset({"application/json", GRAPHQL_RESPONSE_JSON})
# Bodies a browser sends cross-site without a CORS preflight.
SIMPLE_BODY_TYPES = frozenset(
    {"multipart/form-data", "application/x-www-form-urlencoded", "text/plain", ""}
)
APOLLO_PREFLIGHT_HEADER = "apollo-require-preflight"


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


def _quality(candidate: str, ranges: list[tuple[str, float]]) -> float:
    """The quality of the most specific range matching ``candidate``."""
    major = candidate.split("/")[0]
    best: tuple[int, float] = (-1, 0.0)
    for media, quality in ranges:
        specificity = {candidate: 2, f"{major}/*": 1, "*/*": 0}.get(media, -1)
        if specificity > best[0]:
            best = (specificity, quality)
    return best[1]


def negotiate(accept: str | None) -> str | None:
    """The response media type for ``Accept``; None when neither JSON type is acceptable.
    No header, or a tie, means application/graphql-response+json (the current spec)."""
    if not accept or not accept.strip():
        return GRAPHQL_RESPONSE_JSON
    ranges = _ranges(accept)
    modern, legacy = _quality(GRAPHQL_RESPONSE_JSON, ranges), _quality(LEGACY_JSON, ranges)
    if modern <= 0 and legacy <= 0:
        return None
    return GRAPHQL_RESPONSE_JSON if modern >= legacy else LEGACY_JSON


def body_type(headers: Headers) -> str:
    return headers.get("content-type", "").split(";")[0].strip().lower()


def check_post_body(headers: Headers, csrf_header: str) -> None:
    """Refuse bodies a browser could send cross-site without a preflight unless they carry
    the preflight header (CSRF), and bodies the endpoint does not read at all."""
    content_type = body_type(headers)
    if content_type in JSON_BODY_TYPES:
        return
    if content_type in SIMPLE_BODY_TYPES:
        has_preflight_header = bool(
            headers.get(csrf_header, "").strip() or headers.get(APOLLO_PREFLIGHT_HEADER, "").strip()
        )
        if not has_preflight_header:
            raise BadUserInput(
                f"This request has been blocked as a potential cross-site request forgery: "
                f"a {content_type or 'body without a content type'} POST must carry a "
                f"non-empty '{csrf_header}' header",
                reason="CSRF",
            )
        if content_type == "multipart/form-data":
            return
    raise UnsupportedMediaType(
        f"Unsupported content type '{content_type}': send application/json "
        "(or multipart/form-data for uploads)"
    )
