"""``PipelineSettings.validation_rules``: Strawberry's rules with ours, worked out once per
tuple of rules (Strawberry hands each operation a new, equal tuple)."""

from __future__ import annotations

from graphql import specified_rules
from graphql.validation import MaxIntrospectionDepthRule, NoSchemaIntrospectionCustomRule

from schema import document_limits
from schema.extensions import PipelineSettings
from schema.limits import IntrospectionDepthLimit
from services.rate_limit import BucketPolicy, OutagePolicy
from tests.conftest import make_settings


def pipeline(*, introspection: bool) -> PipelineSettings:
    return PipelineSettings(
        limits=document_limits(make_settings()),
        introspection=introspection,
        max_cost=1000,
        policy=BucketPolicy(100, 10, OutagePolicy()),
    )


def test_the_introspection_depth_rule_is_ours() -> None:
    rules = pipeline(introspection=True).validation_rules(tuple(specified_rules))

    assert IntrospectionDepthLimit in rules
    assert MaxIntrospectionDepthRule not in rules
    assert NoSchemaIntrospectionCustomRule not in rules


def test_introspection_off_adds_graphql_cores_rule() -> None:
    rules = pipeline(introspection=False).validation_rules(tuple(specified_rules))

    assert rules[-1] is NoSchemaIntrospectionCustomRule


def test_equal_tuples_of_rules_get_the_same_answer() -> None:
    settings = pipeline(introspection=False)

    first = settings.validation_rules(tuple(specified_rules))

    assert settings.validation_rules(tuple(specified_rules)) is first
