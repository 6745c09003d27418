"""Trusted documents: the manifest of the documents a frontend build ships, by id.

A manifest is the JSON a build tool writes, in one of two shapes:

- an object of id → document: relay-compiler's ``persistConfig`` / ``--persist-output`` file
  (ids are the MD5 of the document by default, SHA-1 or SHA-256 when configured; verified
  with relay-compiler 21) and graphql-codegen's ``persisted-documents.json`` (client preset,
  ``persistedDocuments``; ``sha256:``-prefixed SHA-256 ids in client preset 6.2);
- Apollo's persisted query manifest (``@apollo/generate-persisted-query-manifest``):
  ``{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id", "body",
  …}]}``, ids being SHA-256.

An id is the lower-case hex digest of its document's UTF-8 text (MD5, SHA-1, SHA-256 or
SHA-512, told apart by length), optionally ``sha256:``-prefixed as the GraphQL-over-HTTP
persisted documents appendix writes it. Each one is checked when the manifest is loaded: its
id is its document's digest, the document parses, stays within the document limits and
validates against the schema. A manifest with any problem is refused as a whole, at start-up
(and by ``python -m server trusted-documents verify``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from graphql import GraphQLError, GraphQLSchema, specified_rules, validate

from schema.extensions import parse_document
from schema.limits import DocumentLimitSettings, check_document, with_limit_rules
from services.errors import echo

APOLLO_MANIFEST_FORMAT = "apollo-persisted-query-manifest"
SHA256_PREFIX = "sha256:"
_DIGESTS: dict[int, tuple[str, Callable[[bytes], Any]]] = {
    32: ("MD5", hashlib.md5),
    40: ("SHA-1", hashlib.sha1),
    64: ("SHA-256", hashlib.sha256),
    128: ("SHA-512", hashlib.sha512),
}
_LOWER_HEX = re.compile(r"[0-9a-f]+")


@dataclass(frozen=True)
class Manifest:
    """The trusted documents by id, and the set of their texts (a request that sends a
    trusted document's text instead of its id runs too)."""

    documents: dict[str, str]
    texts: frozenset[str]

    @classmethod
    def of(cls, documents: dict[str, str]) -> Manifest:
        # Ids without their ``sha256:`` prefix: graphql-codegen (client preset 6) writes it,
        # Apollo's persistedQuery.sha256Hash never carries it.
        return cls(
            {key.removeprefix(SHA256_PREFIX): value for key, value in documents.items()},
            frozenset(documents.values()),
        )

    def find(self, document_id: str) -> str | None:
        """The document of ``document_id``, given with or without the ``sha256:`` prefix."""
        return self.documents.get(document_id.removeprefix(SHA256_PREFIX))

    def trusts(self, query: str) -> bool:
        return query in self.texts

    def __len__(self) -> int:
        return len(self.documents)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def id_problem(document_id: str, document: str) -> str | None:
    """Why ``document_id`` is not the digest of ``document`` (None when it is)."""
    digest = document_id.removeprefix(SHA256_PREFIX)
    known = _DIGESTS.get(len(digest)) if _LOWER_HEX.fullmatch(digest) else None
    if known is None or (digest != document_id and known[0] != "SHA-256"):
        return (
            "the id is not a lower-case hex MD5, SHA-1, SHA-256 or SHA-512 digest "
            "(optionally `sha256:`-prefixed)"
        )
    name, algorithm = known
    if algorithm(document.encode()).hexdigest() != digest:
        return f"the id is not the {name} digest of its document"
    return None


def _entries(data: object) -> tuple[dict[str, str], list[str]]:
    """The (id, document) pairs of a parsed manifest, and what is wrong with its shape."""
    if not isinstance(data, dict):
        return {}, ["the manifest must be a JSON object (of id → document)"]
    if data.get("format") == APOLLO_MANIFEST_FORMAT:
        operations = data.get("operations")
        if data.get("version") != 1 or not isinstance(operations, list):
            return {}, [f"an {APOLLO_MANIFEST_FORMAT} must have version 1 and operations"]
        pairs: dict[str, str] = {}
        problems: list[str] = []
        for index, operation in enumerate(operations):
            if not (
                isinstance(operation, dict)
                and isinstance(operation.get("id"), str)
                and isinstance(operation.get("body"), str)
            ):
                problems.append(f"operations[{index}] must have a string `id` and `body`")
                continue
            pairs[operation["id"]] = operation["body"]
        return pairs, problems
    problems = [
        f"{echo(key)}: the document must be a string, not {type(value).__name__}"
        for key, value in data.items()
        if not isinstance(value, str)
    ]
    return {key: value for key, value in data.items() if isinstance(value, str)}, problems


def read_manifest(path: str | Path) -> tuple[Manifest, list[str]]:
    """The manifest at ``path`` and the problems of its file, shape and ids."""
    try:
        data = orjson.loads(Path(path).read_bytes())
    except OSError as exc:
        return Manifest.of({}), [f"cannot read {path}: {exc.strerror or exc}"]
    except orjson.JSONDecodeError as exc:
        return Manifest.of({}), [f"{path} is not JSON: {exc}"]
    documents, problems = _entries(data)
    for document_id, document in documents.items():
        if (problem := id_problem(document_id, document)) is not None:
            problems.append(f"{echo(document_id)}: {problem}")
    if not documents and not problems:
        problems.append("the manifest has no documents")
    return Manifest.of(documents), problems


def document_problem(
    document: str, schema: GraphQLSchema, limits: DocumentLimitSettings
) -> str | None:
    """Why ``document`` would be refused before running, whatever its variables: it does not
    parse, breaks a document limit or does not validate (the first reason found)."""
    try:
        parsed = parse_document(document, limits.max_tokens)
    except GraphQLError as error:
        return f"does not parse: {error.message}"
    if (reason := check_document(parsed, limits)) is not None:
        return f"is over a document limit: {reason}"
    errors = validate(schema, parsed, with_limit_rules(tuple(specified_rules)))
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return f"does not validate: {errors[0].message}{more}"
    return None


def verify_manifest(
    path: str | Path, schema: GraphQLSchema, limits: DocumentLimitSettings
) -> tuple[Manifest, list[str]]:
    """The manifest at ``path`` and every problem found in it."""
    manifest, problems = read_manifest(path)
    for document_id, document in manifest.documents.items():
        if (problem := document_problem(document, schema, limits)) is not None:
            problems.append(f"{echo(document_id)}: the document {problem}")
    return manifest, problems
