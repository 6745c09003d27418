"""Trusted documents: with TRUSTED_DOCUMENTS_MODE=allow-list only the documents of the
manifest a frontend build wrote run (named by id in any of the three conventions, or sent as
their exact text); with audit everything runs and what is not in the manifest is logged."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from core.settings import ConfigurationError
from server.app import create_app
from server.container import Container
from tests.conftest import AppFactory, data, error_of, make_settings
from tests.error_contract import assert_error_contract

POSTS = "query Posts { posts(first: 2) { totalCount } }"
ME = "query Me { me { id } }"
# relay-compiler writes its operation text with indentation and a final newline.
RELAY_POSTS = "query RelayPostsQuery {\n  posts(first: 1) {\n    totalCount\n  }\n}\n"
UNLISTED = "query Unlisted { posts(first: 3) { totalCount } }"
MODERN = {"Accept": "application/graphql-response+json"}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - relay-compiler's default id


def write(path: Path, content: object) -> str:
    path.write_bytes(orjson.dumps(content))
    return str(path)


@pytest.fixture
def codegen_manifest(tmp_path: Path) -> str:
    """graphql-codegen's persisted-documents.json as client preset 6.2 writes it:
    ``sha256:``-prefixed SHA-256 → document."""
    return write(
        tmp_path / "persisted-documents.json",
        {f"sha256:{sha256(POSTS)}": POSTS, f"sha256:{sha256(ME)}": ME},
    )


@pytest.fixture
def allow_list(client_factory: AppFactory, codegen_manifest: str) -> httpx.AsyncClient:
    return client_factory(
        trusted_documents_mode="allow-list", trusted_documents_manifest=codegen_manifest
    )


async def post(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    response = await client.post("/graphql", json=body, headers=MODERN)
    assert_error_contract(response)
    return response


def apq(text: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256(text)}}


async def test_allow_list_runs_a_trusted_document_by_its_persisted_query_hash(
    allow_list: httpx.AsyncClient,
):
    response = await post(allow_list, {"extensions": apq(POSTS)})

    assert data(response) == {"posts": {"totalCount": 0}}


async def test_allow_list_runs_a_trusted_document_by_its_prefixed_document_id(
    allow_list: httpx.AsyncClient,
):
    response = await post(allow_list, {"documentId": f"sha256:{sha256(ME)}"})

    assert data(response) == {"me": None}


async def test_allow_list_runs_a_trusted_document_by_document_id_over_get(
    allow_list: httpx.AsyncClient,
):
    response = await allow_list.get(
        "/graphql", params={"documentId": f"sha256:{sha256(POSTS)}"}, headers=MODERN
    )

    assert_error_contract(response)
    assert data(response) == {"posts": {"totalCount": 0}}


async def test_allow_list_runs_the_exact_text_of_a_trusted_document(
    allow_list: httpx.AsyncClient,
):
    response = await post(allow_list, {"query": POSTS})

    assert data(response) == {"posts": {"totalCount": 0}}


async def test_allow_list_refuses_a_document_that_is_not_in_the_manifest(
    allow_list: httpx.AsyncClient,
):
    response = await post(allow_list, {"query": UNLISTED})

    assert response.status_code == 400
    assert "data" not in response.json()
    error = error_of(response.json())
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
    assert "runs only the trusted documents of its manifest" in error["message"]


async def test_allow_list_refuses_a_trusted_document_with_one_character_changed(
    allow_list: httpx.AsyncClient,
):
    response = await post(allow_list, {"query": POSTS + " "})

    assert error_of(response.json())["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"


async def test_allow_list_refuses_an_id_that_is_not_in_the_manifest(
    allow_list: httpx.AsyncClient,
):
    response = await post(allow_list, {"documentId": f"sha256:{sha256(UNLISTED)}"})

    assert response.status_code == 400
    error = error_of(response.json())
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
    assert "No trusted document has the id" in error["message"]


async def test_allow_list_registers_nothing_through_apq(allow_list: httpx.AsyncClient):
    registering = await post(allow_list, {"query": UNLISTED, "extensions": apq(UNLISTED)})
    by_hash = await post(allow_list, {"extensions": apq(UNLISTED)})

    assert error_of(registering.json())["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
    assert error_of(by_hash.json())["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"


async def test_allow_list_refuses_an_untrusted_document_in_a_batch_and_runs_the_others(
    allow_list: httpx.AsyncClient,
):
    response = await post(allow_list, [{"query": UNLISTED}, {"documentId": sha256(ME)}])  # type: ignore[arg-type]

    refused, allowed = response.json()
    assert error_of(refused)["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
    assert allowed["data"] == {"me": None}


async def test_a_manifest_of_unprefixed_sha256_ids_runs_by_prefixed_document_id(
    client_factory: AppFactory, tmp_path: Path
):
    manifest = write(tmp_path / "persisted-documents.json", {sha256(POSTS): POSTS})
    client = client_factory(
        trusted_documents_mode="allow-list", trusted_documents_manifest=manifest
    )

    response = await post(client, {"documentId": f"sha256:{sha256(POSTS)}"})

    assert data(response) == {"posts": {"totalCount": 0}}


async def test_a_prefixed_persisted_query_hash_names_a_manifest_document(
    allow_list: httpx.AsyncClient,
):
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": f"sha256:{sha256(ME)}"}}

    response = await post(allow_list, {"extensions": extensions})

    assert data(response) == {"me": None}


async def test_a_relay_manifest_of_md5_ids_runs_by_doc_id(
    client_factory: AppFactory, tmp_path: Path
):
    manifest = write(tmp_path / "persisted_queries.json", {md5(RELAY_POSTS): RELAY_POSTS})
    client = client_factory(
        trusted_documents_mode="allow-list", trusted_documents_manifest=manifest
    )

    response = await post(client, {"doc_id": md5(RELAY_POSTS), "variables": {}})

    assert data(response) == {"posts": {"totalCount": 0}}


async def test_an_apollo_persisted_query_manifest_runs_by_hash(
    client_factory: AppFactory, tmp_path: Path
):
    manifest = write(
        tmp_path / "persisted-query-manifest.json",
        {
            "format": "apollo-persisted-query-manifest",
            "version": 1,
            "operations": [{"id": sha256(POSTS), "name": "Posts", "type": "query", "body": POSTS}],
        },
    )
    client = client_factory(
        trusted_documents_mode="allow-list", trusted_documents_manifest=manifest
    )

    response = await post(client, {"extensions": apq(POSTS)})

    assert data(response) == {"posts": {"totalCount": 0}}


async def test_a_request_naming_its_document_twice_is_bad_user_input(
    allow_list: httpx.AsyncClient,
):
    response = await post(allow_list, {"query": POSTS, "documentId": sha256(POSTS)})

    assert response.status_code == 400
    assert error_of(response.json())["extensions"]["code"] == "BAD_USER_INPUT"


async def test_audit_mode_runs_an_unlisted_document_and_logs_it_once(
    client_factory: AppFactory, codegen_manifest: str, caplog: pytest.LogCaptureFixture
):
    client = client_factory(
        trusted_documents_mode="audit", trusted_documents_manifest=codegen_manifest
    )

    with caplog.at_level(logging.WARNING, logger="server.persisted_queries"):
        first = await post(client, {"query": UNLISTED})
        second = await post(client, {"query": UNLISTED})
        trusted = await post(client, {"documentId": sha256(ME)})

    assert data(first) == data(second) == {"posts": {"totalCount": 0}}
    assert data(trusted) == {"me": None}
    logged = [
        record for record in caplog.records if "not in the trusted manifest" in record.message
    ]
    assert len(logged) == 1
    assert logged[0].sha256 == sha256(UNLISTED)  # type: ignore[attr-defined]


async def test_audit_mode_keeps_automatic_persisted_queries(
    client_factory: AppFactory, codegen_manifest: str
):
    client = client_factory(
        trusted_documents_mode="audit", trusted_documents_manifest=codegen_manifest
    )
    await post(client, {"query": UNLISTED, "extensions": apq(UNLISTED)})

    response = await post(client, {"extensions": apq(UNLISTED)})

    assert data(response) == {"posts": {"totalCount": 0}}


async def test_the_server_refuses_to_start_with_a_manifest_that_does_not_verify(tmp_path: Path):
    manifest = write(
        tmp_path / "persisted-documents.json",
        {sha256(POSTS): POSTS, sha256("{ nope }"): "{ nope }", "0" * 64: ME},
    )
    settings = make_settings(
        trusted_documents_mode="allow-list", trusted_documents_manifest=manifest
    )
    container = Container.from_settings(settings)

    try:
        with pytest.raises(ConfigurationError) as refused:
            create_app(settings, manage_database=False, container=container)
    finally:
        await container.close()

    problems = "\n".join(refused.value.problems)
    assert "Cannot query field 'nope' on type 'Query'" in problems
    assert "the id is not the SHA-256 digest of its document" in problems
    assert sha256(POSTS) not in problems


async def test_with_apq_off_a_hash_still_names_a_manifest_document_and_stores_nothing(
    client_factory: AppFactory, codegen_manifest: str
):
    client = client_factory(
        trusted_documents_mode="audit",
        trusted_documents_manifest=codegen_manifest,
        apq_enabled=False,
    )
    trusted = await post(client, {"extensions": apq(POSTS)})
    await post(client, {"query": UNLISTED, "extensions": apq(UNLISTED)})

    unlisted = await post(client, {"extensions": apq(UNLISTED)})

    assert data(trusted) == {"posts": {"totalCount": 0}}
    assert error_of(unlisted.json())["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
