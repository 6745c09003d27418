"""schema/plan_cache.py: plans are kept per document object in a bounded LRU, compiled from
a document's second run on, never for @defer/@stream."""

from __future__ import annotations

from graphql import OperationDefinitionNode, parse

from schema.extensions import CACHEABLE_QUERY_LENGTH
from schema.plan_cache import COMPLETERS_PER_OPERATION, PlanCache


def operation(text: str) -> OperationDefinitionNode:
    found = parse(text).definitions[0]
    assert isinstance(found, OperationDefinitionNode)
    return found


def test_a_document_is_planned_from_its_second_run_with_the_same_object():
    cache = PlanCache()
    feed = operation("{ posts { title } }")

    assert cache.plans_for(feed, {}) is None
    assert cache.plans_for(feed, {}) is not None


def test_an_eager_cache_plans_on_the_first_run():
    assert PlanCache().plans_for(operation("{ posts { title } }"), {}, eager=True) is not None


def test_the_same_text_parsed_again_starts_over():
    """The plan names attachment slots by the ids of the document's nodes."""
    cache = PlanCache()
    first = operation("{ posts { title } }")
    cache.plans_for(first, {})
    plans = cache.plans_for(first, {})
    again = operation("{ posts { title } }")

    assert cache.plans_for(again, {}) is None
    assert cache.plans_for(again, {}) is not plans
    assert cache.plans_for(again, {}) is not None


def test_the_cache_keeps_at_most_its_size_dropping_the_least_recently_used():
    cache = PlanCache(size=2)
    a, b, c = (operation(f"{{ f{index} }}") for index in range(3))
    for document in (a, b, a, c):  # a used again after b: b is the oldest when c comes
        cache.plans_for(document, {})

    assert len(cache) == 2
    assert cache.plans_for(a, {}) is not None
    assert cache.plans_for(c, {}) is not None
    assert cache.plans_for(b, {}) is None  # dropped: a first run again


def test_operations_of_one_document_are_planned_apart():
    document = parse("query A { a } query B { b }")
    first, second = document.definitions
    assert isinstance(first, OperationDefinitionNode)
    assert isinstance(second, OperationDefinitionNode)
    cache = PlanCache()
    for _ in range(2):
        cache.plans_for(first, {})
        cache.plans_for(second, {})

    assert len(cache) == 2
    assert cache.plans_for(first, {}) is not cache.plans_for(second, {})


def test_deferred_or_streamed_documents_are_never_planned():
    cache = PlanCache()
    deferred = operation("{ posts { ... @defer { title } } }")
    streamed = operation("{ posts @stream { title } }")
    for _ in range(3):
        assert cache.plans_for(deferred, {}) is None
        assert cache.plans_for(streamed, {}) is None


def test_skip_and_include_variables_pick_the_plan_variant():
    cache = PlanCache()
    document = operation(
        "query($a: Boolean!, $b: Boolean!, $n: Int) "
        "{ posts(first: $n) { title @skip(if: $a) body @include(if: $b) } }"
    )
    plans = cache.plans_for(document, {}, eager=True)
    assert plans is not None

    assert plans.switch_variables == ("a", "b")
    assert plans.variant({"a": True, "b": False, "n": 3}) == (True, False)
    assert plans.variant({"a": True, "b": False, "n": 4}) == (True, False)


def test_an_operation_keeps_a_bounded_number_of_completers():
    plans = PlanCache().plans_for(operation("{ f }"), {}, eager=True)
    assert plans is not None
    for key in range(COMPLETERS_PER_OPERATION + 10):
        plans.keep(key, None)

    assert len(plans.completers) == COMPLETERS_PER_OPERATION


def test_texts_too_long_for_the_parse_cache_are_not_kept():
    cache = PlanCache()
    long = operation("{ f }" + " " * CACHEABLE_QUERY_LENGTH)
    for _ in range(2):
        assert cache.plans_for(long, {}, eager=True) is None

    assert len(cache) == 0
