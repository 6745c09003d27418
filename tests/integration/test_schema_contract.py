"""The committed `schema.graphql` is the API contract: it matches the code, it declares the
shared building blocks, and production does not reveal more of it than the contract does."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
)
from graphql import build_schema as parse_sdl

from schema import export_sdl
from services.errors import ErrorCode
from tests.conftest import DATABASE_URL, AppFactory, graphql

PROJECT_ROOT = Path(__file__).resolve().parents[2]
COMMITTED_SDL = PROJECT_ROOT / "schema.graphql"
INTROSPECTION_QUERY = "{ __schema { queryType { name } } }"
MISSPELLED_QUERY = "{ mee { id } }"


@pytest.fixture(scope="module")
def contract() -> GraphQLSchema:
    return parse_sdl(COMMITTED_SDL.read_text(encoding="utf-8"))


@pytest.fixture
def production_client(client_factory: AppFactory) -> httpx.AsyncClient:
    return client_factory(
        app_env="production",
        database_url=DATABASE_URL,
        jwt_secret="j" * 40,
        refresh_token_secret="r" * 40,
        metrics_token="m" * 40,
    )


@pytest.fixture
def development_client(client_factory: AppFactory) -> httpx.AsyncClient:
    return client_factory(app_env="development")


def test_the_committed_schema_matches_the_code() -> None:
    committed = COMMITTED_SDL.read_text(encoding="utf-8")

    assert committed == export_sdl(), (
        "schema.graphql differs from the schema the code builds: run `make export-schema` "
        "and commit the result"
    )


def test_the_contract_declares_the_node_interface(contract: GraphQLSchema) -> None:
    node = contract.get_type("Node")

    assert isinstance(node, GraphQLInterfaceType)
    id_type = node.fields["id"].type
    assert isinstance(id_type, GraphQLNonNull)
    assert str(id_type.of_type) == "ID"


def test_the_contract_lists_every_error_code(contract: GraphQLSchema) -> None:
    error_code = contract.get_type("ErrorCode")

    assert isinstance(error_code, GraphQLEnumType)
    assert set(error_code.values) == {code.value for code in ErrorCode}
    assert all(value.description for value in error_code.values.values())


@pytest.mark.parametrize("name", ["DateTime", "Decimal", "JSON"])
def test_the_contract_declares_the_custom_scalars(contract: GraphQLSchema, name: str) -> None:
    assert isinstance(contract.get_type(name), GraphQLScalarType)


async def test_introspection_is_available_in_development(
    development_client: httpx.AsyncClient,
) -> None:
    response = await graphql(development_client, INTROSPECTION_QUERY)

    assert response.status_code == 200
    assert response.json()["data"] == {"__schema": {"queryType": {"name": "Query"}}}


async def test_introspection_is_refused_in_production(
    production_client: httpx.AsyncClient,
) -> None:
    response = await graphql(production_client, INTROSPECTION_QUERY)

    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert body["errors"]
    assert {error["extensions"]["code"] for error in body["errors"]} == {
        "GRAPHQL_VALIDATION_FAILED"
    }


async def test_typename_still_works_in_production(production_client: httpx.AsyncClient) -> None:
    response = await graphql(production_client, "{ __typename }")

    assert response.status_code == 200
    assert response.json()["data"] == {"__typename": "Query"}


async def test_field_suggestions_help_in_development(
    development_client: httpx.AsyncClient,
) -> None:
    response = await graphql(development_client, MISSPELLED_QUERY)

    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Did you mean 'me'?" in error["message"]


async def test_field_suggestions_do_not_leak_the_schema_in_production(
    production_client: httpx.AsyncClient,
) -> None:
    response = await graphql(production_client, MISSPELLED_QUERY)

    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert error["message"] == "Cannot query field 'mee' on type 'Query'."
    assert "Did you mean" not in response.text
