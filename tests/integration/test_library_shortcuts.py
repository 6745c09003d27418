"""``LIBRARY_SHORTCUTS=false`` runs graphql-core's, Strawberry's and Tortoise's own paths
(docs/ARCHITECTURE.md, "Fenced library internals"): the same answers, in the same number of
SQL statements (the prefetched values reach the Strawberry resolvers through the
DataLoaders' caches and the attachments)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from graphql import GraphQLObjectType

from core.shortcuts import use_library_shortcuts
from resolvers.attachments import PREFETCHED_FIELD
from schema import build_schema
from schema.execution import StockExecutionContext
from tests import factories
from tests.conftest import AppFactory, StatementCounter, graphql, make_settings

FEED = """
query {
  posts(first: 10) {
    totalCount
    edges { node {
      title status
      author { name postCount posts(first: 2) { nodes { title commentCount } } }
      commentCount
      comments(first: 3) { edges { node { body author { name } } } }
    } }
  }
}
"""


@pytest.fixture(autouse=True)
def shortcuts_restored() -> Iterator[None]:
    """Building an app sets the process-wide half of the switch; put back the session's."""
    yield
    use_library_shortcuts(make_settings().library_shortcuts)


@pytest.fixture
async def feed(db: None) -> None:
    authors = await factories.create_users(3)
    for index in range(6):
        post = await factories.create_post(authors[index % 3])
        await factories.create_comments(post, authors)


async def statements_and_data(
    client_factory: AppFactory, sql_statements: StatementCounter, shortcuts: bool
) -> tuple[int, dict[str, Any]]:
    client = client_factory(library_shortcuts=shortcuts, query_max_cost=5000)
    sql_statements.reset()
    body = (await graphql(client, FEED)).json()
    assert "errors" not in body, body["errors"]
    return len(sql_statements.statements), body["data"]


async def test_shortcuts_off_answer_the_same_data_in_the_same_statements(
    client_factory: AppFactory, sql_statements: StatementCounter, feed: None
) -> None:
    with_shortcuts = await statements_and_data(client_factory, sql_statements, shortcuts=True)
    without = await statements_and_data(client_factory, sql_statements, shortcuts=False)

    assert without == with_shortcuts


def test_shortcuts_off_build_a_schema_with_strawberrys_resolvers_and_executor() -> None:
    schema = build_schema(make_settings(library_shortcuts=False))

    assert schema.execution_context_class is StockExecutionContext
    assert not [
        f"{type_.name}.{name}"
        for type_ in schema._schema.type_map.values()
        if isinstance(type_, GraphQLObjectType)
        for name, field in type_.fields.items()
        if PREFETCHED_FIELD in field.extensions
    ]
