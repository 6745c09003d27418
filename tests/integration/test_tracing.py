"""Tracing (core/tracing.py): one trace per request, from the HTTP span through the GraphQL
operation and each level's batched loads to the jobs it queues; the trace context taken
from the client and handed to the logs, the response and the jobs. Spans are captured with
the SDK's in-memory exporter (the ``spans`` fixture); apps are built with tracing on."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from saq.job import Job

from core import tracing
from resolvers.subscriptions import delivery_span
from services.jobs.base import TRACE_META_KEY, JobContext, JobRegistry
from services.jobs.worker import saq_function
from services.mail import OutboxMailer
from services.pubsub import with_trace
from tests import factories
from tests.conftest import AppFactory, graphql, requires_postgres, requires_redis

TRACED = {"otel_traces_exporter": "otlp"}
CLIENT_TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
CLIENT_SPAN_ID = "b7ad6b7169203331"

FEED = """
query Feed {
  posts(first: 10) {
    edges { node {
      title
      author { name postCount }
      commentCount
      comments(first: 5) { edges { node { body author { name } } } }
    } }
  }
}
"""
# Level 1: the posts' authors, comment counts and first comments (one statement for all
# the posts); level 2: the authors' post counts (the comments' authors are already loaded).
FEED_BATCHES = [
    "load posts.count_comments",
    "load posts.count_published_posts",
    "load relations.comments_pages",
    "load users.load_users",
]


@pytest.fixture
async def feed_world(db: None) -> None:
    authors = await factories.create_users(3)
    for index in range(6):
        post = await factories.create_post(authors[index % 3])
        await factories.create_comments(post, authors)


def named(spans: Sequence[ReadableSpan], name: str) -> ReadableSpan:
    [found] = [span for span in spans if span.name == name]
    return found


def hex_trace_id(span: ReadableSpan) -> str:
    return format(span.context.trace_id, "032x")


async def test_the_feed_query_is_one_trace_from_http_through_the_operation_to_each_batch(
    client_factory: AppFactory, spans: InMemorySpanExporter, feed_world: None
) -> None:
    client = client_factory(**TRACED)
    spans.clear()  # the set-up's own statements

    response = await graphql(client, FEED)

    finished = spans.get_finished_spans()
    http = named(finished, "POST /graphql")
    operation = named(finished, "query Feed")
    loads = [span for span in finished if span.name.startswith("load ")]
    assert {span.context.trace_id for span in finished} == {http.context.trace_id}
    assert http.parent is None
    assert http.kind is SpanKind.SERVER
    assert operation.parent is not None
    assert operation.parent.span_id == http.context.span_id
    assert sorted(span.name for span in loads) == FEED_BATCHES
    assert {span.parent.span_id for span in loads if span.parent} == {operation.context.span_id}
    assert response.json()["extensions"]["traceId"] == hex_trace_id(http)


async def test_a_batch_span_counts_the_keys_of_its_whole_level(
    client_factory: AppFactory, spans: InMemorySpanExporter, feed_world: None
) -> None:
    client = client_factory(**TRACED)
    spans.clear()  # the set-up's own statements

    await graphql(client, FEED)

    finished = spans.get_finished_spans()
    assert named(finished, "load posts.count_comments").attributes == {"agora.load.keys": 6}
    assert named(finished, "load users.load_users").attributes == {"agora.load.keys": 3}


async def test_the_operation_span_carries_name_type_document_hash_and_cost(
    client_factory: AppFactory, spans: InMemorySpanExporter, feed_world: None
) -> None:
    client = client_factory(**TRACED)
    spans.clear()  # the set-up's own statements

    response = await graphql(client, FEED)

    attributes = named(spans.get_finished_spans(), "query Feed").attributes
    assert attributes == {
        "graphql.operation.name": "Feed",
        "graphql.operation.type": "query",
        "graphql.document.hash": hashlib.sha256(FEED.encode()).hexdigest(),
        "graphql.operation.cost": response.json()["extensions"]["cost"]["requestedQueryCost"],
    }


async def test_a_refused_operation_span_is_marked_as_an_error(
    client_factory: AppFactory, spans: InMemorySpanExporter, db: None
) -> None:
    client = client_factory(**TRACED)
    spans.clear()  # the set-up's own statements

    await graphql(client, "query Broken { nothingHere }")

    operation = named(spans.get_finished_spans(), "query Broken")
    assert not operation.status.is_ok


async def test_a_client_traceparent_is_continued_and_answered_in_traceresponse(
    client_factory: AppFactory, spans: InMemorySpanExporter, db: None
) -> None:
    client = client_factory(**TRACED)
    spans.clear()  # the set-up's own statements
    traceparent = f"00-{CLIENT_TRACE_ID}-{CLIENT_SPAN_ID}-01"

    response = await graphql(client, "{ __typename }", headers={"traceparent": traceparent})

    http = named(spans.get_finished_spans(), "POST /graphql")
    assert hex_trace_id(http) == CLIENT_TRACE_ID
    assert http.parent is not None
    assert format(http.parent.span_id, "016x") == CLIENT_SPAN_ID
    assert response.json()["extensions"]["traceId"] == CLIENT_TRACE_ID
    assert response.headers["traceresponse"] == (
        f"00-{CLIENT_TRACE_ID}-{format(http.context.span_id, '016x')}-01"
    )


async def test_a_client_trace_not_sampled_is_followed_and_its_trace_id_still_answered(
    client_factory: AppFactory, spans: InMemorySpanExporter, feed_world: None
) -> None:
    client = client_factory(**TRACED)
    spans.clear()  # the set-up's own statements
    traceparent = f"00-{CLIENT_TRACE_ID}-{CLIENT_SPAN_ID}-00"

    response = await graphql(client, FEED, headers={"traceparent": traceparent})

    assert spans.get_finished_spans() == ()
    assert response.json()["extensions"]["traceId"] == CLIENT_TRACE_ID


async def test_a_client_tracestate_is_kept_in_the_trace(
    client_factory: AppFactory, spans: InMemorySpanExporter, db: None
) -> None:
    client = client_factory(**TRACED)
    spans.clear()  # the set-up's own statements
    headers = {
        "traceparent": f"00-{CLIENT_TRACE_ID}-{CLIENT_SPAN_ID}-01",
        "tracestate": "vendor=opaque",
    }

    await graphql(client, "{ __typename }", headers=headers)

    operation = named(spans.get_finished_spans(), "query")
    assert operation.context.trace_state.get("vendor") == "opaque"


async def test_every_log_line_of_a_request_carries_its_trace_id(
    client_factory: AppFactory,
    spans: InMemorySpanExporter,
    db: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = client_factory(log_level="INFO", log_format="json", **TRACED)
    spans.clear()

    response = await graphql(client, "{ __typename }")

    request_id = response.json()["extensions"]["requestId"]
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    of_request = [line for line in lines if line.get("requestId") == request_id]
    assert [line["msg"] for line in of_request] == ["request"]  # the access log line
    assert {line["traceId"] for line in of_request} == {response.json()["extensions"]["traceId"]}
    http = named(spans.get_finished_spans(), "POST /graphql")
    assert of_request[0]["spanId"] == format(http.context.span_id, "016x")


async def test_a_job_span_is_a_child_of_the_request_that_queued_it_and_linked_to_it(
    client_factory: AppFactory, spans: InMemorySpanExporter, db: None
) -> None:
    client = client_factory(**TRACED)
    user = await factories.create_user()
    spans.clear()  # the set-up's own statements

    await graphql(
        client, "mutation($e: String!) { requestPasswordReset(email: $e) }", {"e": user.email}
    )
    await client.container.jobs.drain()  # type: ignore[attr-defined]

    finished = spans.get_finished_spans()
    operation = named(finished, "mutation")
    job = named(finished, "job send_email")
    assert job.kind is SpanKind.CONSUMER
    assert job.context.trace_id == operation.context.trace_id
    assert job.parent is not None
    assert job.parent.span_id == operation.context.span_id
    assert [link.context.span_id for link in job.links] == [operation.context.span_id]
    assert job.attributes is not None
    assert job.attributes["agora.job.attempt"] == 1


def test_a_subscription_event_starts_a_trace_linked_to_the_request_that_published_it(
    spans: InMemorySpanExporter,
) -> None:
    with tracing.span("publishing request") as publisher:
        assert publisher is not None
        message = with_trace({"id": 1})

    with delivery_span("post.published", message):
        pass

    delivery = named(spans.get_finished_spans(), "subscription event post.published")
    assert delivery.parent is None
    assert delivery.context.trace_id != publisher.get_span_context().trace_id
    assert [link.context.span_id for link in delivery.links] == [
        publisher.get_span_context().span_id
    ]


async def test_a_cacheable_get_body_stays_data_alone_with_tracing_on(
    client_factory: AppFactory, spans: InMemorySpanExporter, feed_world: None
) -> None:
    client = client_factory(**TRACED)
    spans.clear()  # the set-up's own statements

    response = await client.get(
        "/graphql", params={"query": "{ posts(first: 2) { nodes { title } } }"}
    )

    assert response.headers["cache-control"].startswith("public")
    assert list(response.json()) == ["data"]


@requires_postgres
async def test_sql_statements_are_spans_under_the_batched_load_that_sent_them(
    client_factory: AppFactory, spans: InMemorySpanExporter, feed_world: None
) -> None:
    client = client_factory(**TRACED)
    spans.clear()  # the set-up's own statements

    await graphql(client, FEED)

    finished = spans.get_finished_spans()
    by_id = {span.context.span_id: span for span in finished}
    sql = [span for span in finished if (span.attributes or {}).get("db.system") == "postgresql"]
    parents = [by_id[span.parent.span_id].name for span in sql if span.parent]
    assert len(parents) == len(sql)
    assert set(FEED_BATCHES) - {"load users.load_users"} <= set(parents)  # users may be cached
    assert set(parents) <= {*FEED_BATCHES, "query Feed"}


@requires_redis
async def test_redis_commands_are_spans_of_the_request(
    client_factory: AppFactory, spans: InMemorySpanExporter, db: None
) -> None:
    client = client_factory(**TRACED)
    spans.clear()  # the set-up's own statements

    await graphql(client, "{ __typename }")

    finished = spans.get_finished_spans()
    http = named(finished, "POST /graphql")
    redis = [span for span in finished if (span.attributes or {}).get("db.system") == "redis"]
    assert redis  # the cost bucket
    assert {span.context.trace_id for span in redis} == {http.context.trace_id}


async def test_tracing_off_makes_no_span_at_all(
    client_factory: AppFactory, feed_world: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[object] = []
    original = trace.NonRecordingSpan.__init__

    def counted(self: trace.NonRecordingSpan, *args: Any, **kwargs: Any) -> None:
        made.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(trace.NonRecordingSpan, "__init__", counted)
    client = client_factory()

    response = await graphql(client, FEED)

    assert "traceId" not in response.json()["extensions"]
    assert "traceresponse" not in response.headers
    assert tracing.provider() is None
    assert made == []


async def test_a_saq_job_carries_the_trace_in_its_meta_and_its_attempt_continues_it(
    spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    registry = JobRegistry()
    ran: list[str] = []

    @registry.job("remember")
    async def remember(ctx: JobContext, value: str) -> None:
        ran.append(value)

    with tracing.span("queuing request") as request:
        assert request is not None
        meta = {TRACE_META_KEY: tracing.carrier()}
    job = Job(function="remember", kwargs={"value": "x"}, key="job-1", meta=meta, attempts=1)

    run = saq_function(registry.get("remember"), JobContext(mailer=OutboxMailer(tmp_path)))
    await run({"job": job}, value="x")

    attempt = named(spans.get_finished_spans(), "job remember")
    assert ran == ["x"]
    assert attempt.parent is not None
    assert attempt.parent.span_id == request.get_span_context().span_id
    assert [link.context.span_id for link in attempt.links] == [request.get_span_context().span_id]
    assert attempt.attributes == {"agora.job.id": "job-1", "agora.job.attempt": 1}
