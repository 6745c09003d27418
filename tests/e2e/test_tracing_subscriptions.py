"""Tracing across pub/sub, on a real uvicorn: the event a mutation publishes reaches a
websocket subscriber, and loading it for the subscription is a trace of its own linked to
the mutation's operation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from models.posts import PostStatus
from services import events
from tests.e2e.conftest import subscribers
from tests.e2e.test_subscriptions import POST_PUBLISHED, PUBLISH_POST, post_graphql, token_for
from tests.e2e.wsclient import connect
from tests.factories import create_post, create_user, gid


async def test_a_delivered_event_is_a_trace_linked_to_the_mutation_that_published_it(
    live_server_factory: Callable[..., Any], spans: InMemorySpanExporter
) -> None:
    server = await live_server_factory(otel_traces_exporter="otlp")
    author = await create_user()
    draft = await create_post(author, status=PostStatus.DRAFT)
    async with connect(server.ws_url) as client:
        await client.init()
        await client.subscribe("feed", POST_PUBLISHED)
        await subscribers(server, events.POST_PUBLISHED, 1)

        await post_graphql(
            server, PUBLISH_POST, {"id": gid("Post", draft.id)}, token_for(server, author)
        )
        assert (await client.receive())["type"] == "next"

    finished = spans.get_finished_spans()
    [mutation] = [span for span in finished if span.name == "mutation"]
    [delivery] = [span for span in finished if span.name == "subscription event post.published"]
    assert delivery.parent is None
    assert delivery.context.trace_id != mutation.context.trace_id
    assert [link.context.span_id for link in delivery.links] == [mutation.context.span_id]
    below = [span.name for span in finished if span.parent and span.parent == delivery.context]
    assert [name for name in below if name.startswith("load ")] == ["load users.load_users"]
