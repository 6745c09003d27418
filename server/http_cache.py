"""HTTP caching of GET /graphql: the headers of a response from the cache policy of its executed
operation (``schema.cache_control``), whatever way its document arrived.

- ``Cache-Control``: ``public, max-age=N`` or ``private, max-age=N`` for a cacheable GET,
  ``no-store`` for everything else (POST, errors, refusals, streams);
- ``ETag``: strong, a digest of the body; ``Vary``: what the body depends on besides the URL;
- a matching ``If-None-Match`` answers ``304 Not Modified`` without a body.
"""

from __future__ import annotations

import hashlib

from starlette.responses import Response

from vocabulary.cache_hints import CachePolicy

NO_STORE = "no-store"
# The media type follows Accept, the viewer Authorization, the encoding Accept-Encoding. Cookies
# are not listed: a GET query never reads one (resolvers/auth.py: refresh_cookie).
VARY = "Accept, Authorization, Accept-Encoding"
# The suffix server.middleware.compression puts on the ETag of a gzip-encoded body.
GZIP_SUFFIX = "-gzip"


def cache_control(method: str, policy: CachePolicy | None) -> str:
    """The Cache-Control value of a response to ``method`` with ``policy``."""
    if method != "GET" or policy is None or not policy.cacheable:
        return NO_STORE
    return f"{'private' if policy.private else 'public'}, max-age={policy.max_age}"


def is_cacheable(method: str, policy: CachePolicy | None) -> bool:
    return cache_control(method, policy) != NO_STORE


def entity_tag(content_type: str, body: bytes) -> str:
    """A strong ETag: equal for equal bodies of one media type only (the body of
    ``application/json`` and of ``application/graphql-response+json`` are two representations
    negotiated by Accept, so they get two tags)."""
    digest = hashlib.sha256(content_type.encode())
    digest.update(b"\n")
    digest.update(body)
    return '"' + digest.hexdigest()[:32] + '"'


def gzip_variant(etag: str) -> str:
    """The ETag of the gzip-encoded body: another representation, so another strong tag."""
    return etag[:-1] + GZIP_SUFFIX + '"'


def matched_tag(if_none_match: str | None, etag: str) -> str | None:
    """The tag of ``If-None-Match`` naming this body (plain or gzip-encoded), compared weakly as
    RFC 9110 asks of If-None-Match; None when none does."""
    if not if_none_match:
        return None
    variants = (etag, gzip_variant(etag))
    for candidate in if_none_match.split(","):
        tag = candidate.strip()
        if tag == "*":
            return etag
        tag = tag.removeprefix("W/")
        if tag in variants:
            return tag
    return None


def with_cache_headers(
    response: Response, *, cache_control_value: str, if_none_match: str | None
) -> Response:
    """``response`` with the headers of a cacheable GET, or the 304 that replaces it."""
    etag = entity_tag(response.headers.get("content-type", ""), bytes(response.body))
    headers = {"Cache-Control": cache_control_value, "Vary": VARY}
    matched = matched_tag(if_none_match, etag)
    if matched is not None:
        not_modified = Response(status_code=304, headers={**headers, "ETag": matched})
        not_modified.background = response.background
        return not_modified
    response.headers.update({**headers, "ETag": etag})
    return response
