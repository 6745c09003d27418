"""What of the viewer an operation depends on, read from its document and the fields'
declarations: the key shared subscriptions are grouped by."""

from __future__ import annotations

import pytest
from graphql import GraphQLObjectType, get_operation_ast, parse

from schema import build_schema
from schema.viewer_dependence import field_dependence, operation_dependence
from tests.conftest import make_settings
from vocabulary.viewer import ViewerDependence

SCHEMA = build_schema(make_settings())._schema


def dependence_of(query: str) -> ViewerDependence:
    document = parse(query)
    operation = get_operation_ast(document)
    assert operation is not None
    return operation_dependence(SCHEMA, document, operation)


@pytest.mark.parametrize(
    "query",
    [
        "subscription { postPublished { id title author { name postCount } } }",
        "subscription { postPublished { comments(first: 3) { nodes { author { name } } } } }",
        'subscription { orderUpdated(id: "T3JkZXI6MQ==") { status items { quantity } } }',
    ],
)
def test_a_selection_of_public_fields_depends_on_nobody(query):
    assert dependence_of(query) is ViewerDependence.NONE


@pytest.mark.parametrize(
    "query",
    [
        "subscription { postPublished { author { email } } }",
        "subscription { postPublished { author { posts(first: 5) { nodes { title } } } } }",
        'subscription { orderUpdated(id: "T3JkZXI6MQ==") { buyer { balance } } }',
        "subscription { postPublished { ...Who } } fragment Who on Post { author { permissions } }",
        "subscription { postPublished { author { ... on User { orders { totalCount } } } } }",
        "subscription { postPublished { author @skip(if: true) { email } } }",
    ],
)
def test_a_user_s_own_data_depends_on_the_role_and_the_owner(query):
    assert dependence_of(query) is ViewerDependence.OWNER


def test_the_viewer_s_own_notifications_depend_on_the_user():
    assert dependence_of("subscription { notificationReceived { id } }") is ViewerDependence.USER


def test_the_user_fields_that_show_own_data_are_declared():
    user = SCHEMA.get_type("User")
    assert isinstance(user, GraphQLObjectType)
    declared = {
        name
        for name, field in user.fields.items()
        if field_dependence(field) is not ViewerDependence.NONE
    }
    assert declared == {"email", "permissions", "balance", "posts", "orders"}
