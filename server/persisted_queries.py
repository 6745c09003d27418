"""Persisted documents over HTTP: which document a request runs, when it names one by id.

Three ways to name a document (besides sending its ``query``):

- ``extensions.persistedQuery: {version: 1, sha256Hash}`` — Apollo's automatic persisted
  queries (APQ), as Apollo Client's ``PersistedQueryLink`` and urql's ``persistedExchange``
  send it: a hash alone runs the document stored under it, or answers
  ``PERSISTED_QUERY_NOT_FOUND`` with the message ``PersistedQueryNotFound`` (what both clients
  match) so the client sends it again with the ``query``, which is stored once it passed
  parsing, validation and every limit;
- ``documentId`` — the GraphQL-over-HTTP persisted documents appendix (``sha256:<hex>``, or
  the manifest's own id);
- ``doc_id`` — Relay's convention for the ids of ``relay-compiler``'s persisted queries.

With trusted documents (``TRUSTED_DOCUMENTS_MODE``), ids are looked up in the manifest first.
In ``allow-list`` mode nothing else runs: an id that is not in the manifest, or a ``query``
whose text is not one of its documents, is ``PERSISTED_QUERY_NOT_ALLOWED`` and APQ stores
nothing. In ``audit`` mode everything runs, and each distinct document that is not in the
manifest is counted and logged once.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from graphql import GraphQLSchema
from prometheus_client import Counter
from strawberry.http import GraphQLRequestData

from core.metrics import REGISTRY
from core.settings import ConfigurationError, Settings
from schema.limits import DocumentLimitSettings
from server.trusted_documents import SHA256_PREFIX, Manifest, sha256_hex, verify_manifest
from services.errors import (
    BadUserInput,
    PersistedQueryHashMismatch,
    PersistedQueryNotAllowed,
    PersistedQueryNotFound,
    PersistedQueryNotSupported,
    echo,
)
from services.persisted_queries import PersistedQueryStore

logger = logging.getLogger(__name__)

APQ_VERSION = 1
# Distinct untrusted documents remembered by audit mode, to log each once.
AUDIT_MEMORY = 10_000
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")

PERSISTED_QUERIES = Counter(
    "persisted_queries_total",
    "Automatic persisted queries by result: hit (a hash found its document), miss, "
    "registered (a document stored), too_large (a document run but not stored).",
    ["result"],
    registry=REGISTRY,
)
TRUSTED_DOCUMENTS = Counter(
    "trusted_documents_total",
    "Documents checked against the trusted manifest by result: trusted, refused "
    "(allow-list), unlisted (audit: run, but not in the manifest).",
    ["result"],
    registry=REGISTRY,
)


@dataclass(frozen=True, slots=True)
class Resolved:
    """The document a request runs; ``register``: the hash to store it under once it ran."""

    query: str | None
    register: str | None = None
    trusted: bool = False


@dataclass(frozen=True, slots=True)
class PersistedQuery:
    version: object
    sha256: str


def persisted_query(extensions: dict[str, object] | None) -> PersistedQuery | None:
    """``extensions.persistedQuery``, shape-checked (a malformed one is BAD_USER_INPUT)."""
    value = (extensions or {}).get("persistedQuery")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadUserInput("`extensions.persistedQuery` must be an object")
    sha256 = value.get("sha256Hash")
    if isinstance(sha256, str):
        # Apollo Client fed graphql-codegen's `__meta__.hash` (client preset 6) sends it so.
        sha256 = sha256.removeprefix(SHA256_PREFIX)
    if not isinstance(sha256, str) or not _SHA256_HEX.fullmatch(sha256):
        raise BadUserInput(
            "`extensions.persistedQuery.sha256Hash` must be 64 lower-case hexadecimal "
            "characters (the SHA-256 of the document), optionally `sha256:`-prefixed"
        )
    return PersistedQuery(value.get("version"), sha256)


class PersistedDocuments:
    def __init__(
        self, settings: Settings, store: PersistedQueryStore, manifest: Manifest | None
    ) -> None:
        self.apq_enabled = settings.apq_enabled
        self.allow_list = settings.trusted_documents_mode == "allow-list"
        self.store = store
        self.manifest = manifest
        self._audited: OrderedDict[str, None] = OrderedDict()

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        store: PersistedQueryStore,
        schema: GraphQLSchema,
        limits: DocumentLimitSettings,
    ) -> PersistedDocuments:
        """With trusted documents on, the manifest is loaded and verified here: a manifest
        with any problem stops the start-up (ConfigurationError naming every problem)."""
        manifest = None
        if settings.trusted_documents_mode != "off":
            manifest = load_manifest(settings, schema, limits)
        return cls(settings, store, manifest)

    @property
    def registers(self) -> bool:
        return self.apq_enabled and not self.allow_list

    async def resolve(self, request: GraphQLRequestData) -> Resolved:
        """The document ``request`` runs. Raises the PersistedQueryError refusals, and
        BadUserInput for a malformed request."""
        resolved = await self._resolve(request)
        if resolved.query is not None and not resolved.trusted:
            self.screen(resolved.query)
        return resolved

    async def _resolve(self, request: GraphQLRequestData) -> Resolved:
        reference = persisted_query(request.extensions)
        document_id: str | None = getattr(request, "document_id", None)
        if document_id is not None:
            if request.query is not None or reference is not None:
                raise BadUserInput(
                    "A request names its document once: `query`, `documentId` (or `doc_id`) "
                    "or `extensions.persistedQuery`"
                )
            return await self._by_id(document_id, document_id.removeprefix(SHA256_PREFIX))
        if reference is None:
            return Resolved(request.query)
        if not self.apq_enabled and self.manifest is None:
            # With a manifest, hashes still name its documents (Apollo's manifest ids).
            raise PersistedQueryNotSupported()
        if reference.version != APQ_VERSION or isinstance(reference.version, bool):
            raise BadUserInput(
                f"Unsupported persisted query version {reference.version!r}: this server "
                f"speaks version {APQ_VERSION}"
            )
        if request.query is None:
            return await self._by_id(reference.sha256, reference.sha256)
        if sha256_hex(request.query) != reference.sha256:
            raise PersistedQueryHashMismatch()
        return Resolved(request.query, register=reference.sha256 if self.registers else None)

    async def _by_id(self, document_id: str, sha256: str) -> Resolved:
        if self.manifest is not None and (document := self.manifest.find(document_id)):
            TRUSTED_DOCUMENTS.labels("trusted").inc()
            return Resolved(document, trusted=True)
        if self.allow_list:
            TRUSTED_DOCUMENTS.labels("refused").inc()
            raise PersistedQueryNotAllowed(
                f"No trusted document has the id {echo(document_id)}: this server runs only "
                "the documents of its manifest"
            )
        document = None
        if self.apq_enabled and _SHA256_HEX.fullmatch(sha256):
            document = await self.store.get(sha256)
        if document is not None:
            PERSISTED_QUERIES.labels("hit").inc()
            return Resolved(document)
        PERSISTED_QUERIES.labels("miss").inc()
        raise PersistedQueryNotFound()

    def screen(self, query: str) -> None:
        """A document about to run that was not named by a manifest id: in allow-list mode
        it must be one of the manifest's texts; in audit mode it is counted and logged."""
        if self.manifest is None:
            return
        if self.manifest.trusts(query):
            TRUSTED_DOCUMENTS.labels("trusted").inc()
            return
        if self.allow_list:
            TRUSTED_DOCUMENTS.labels("refused").inc()
            raise PersistedQueryNotAllowed(
                "This server runs only the trusted documents of its manifest: send the id of "
                "one (`extensions.persistedQuery`, `documentId` or `doc_id`) or its exact text"
            )
        TRUSTED_DOCUMENTS.labels("unlisted").inc()
        digest = sha256_hex(query)
        if digest in self._audited:
            return
        self._audited[digest] = None
        if len(self._audited) > AUDIT_MEMORY:
            self._audited.popitem(last=False)
        logger.warning(
            "a document that is not in the trusted manifest ran (TRUSTED_DOCUMENTS_MODE=audit)",
            extra={"sha256": digest, "document": query[:200]},
        )

    async def remember(self, resolved: Resolved, ran: bool) -> None:
        """Store an APQ document once it ran (``ran``: it passed parsing, validation and
        every limit, as Apollo Server stores only documents that got that far)."""
        if resolved.register is None or resolved.query is None or not ran:
            return
        if len(resolved.query.encode()) > self.store.max_document_bytes:
            PERSISTED_QUERIES.labels("too_large").inc()
            return
        await self.store.put(resolved.register, resolved.query)
        PERSISTED_QUERIES.labels("registered").inc()


def load_manifest(
    settings: Settings, schema: GraphQLSchema, limits: DocumentLimitSettings
) -> Manifest:
    path = settings.trusted_documents_manifest
    if not path:
        raise ConfigurationError(
            [
                f"TRUSTED_DOCUMENTS_MODE={settings.trusted_documents_mode} needs "
                "TRUSTED_DOCUMENTS_MANIFEST"
            ]
        )
    manifest, problems = verify_manifest(Path(path), schema, limits)
    if problems:
        raise ConfigurationError([f"TRUSTED_DOCUMENTS_MANIFEST {path}: {p}" for p in problems])
    return manifest
