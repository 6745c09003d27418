"""A long-lived subscription keeps nothing per event: what one event's execution built is
freed once its payload is sent (graphql-core's per-event executors shared a memo that grew
by every event, ~3 KB per event per stream: schema/execution.py, ``PerEventExecutor``)."""

from __future__ import annotations

import gc

from graphql.execution.collect_fields import FieldDetails

from models.posts import PostStatus
from services import events
from tests.e2e.conftest import subscribers
from tests.e2e.test_subscriptions import PUBLISH_POST, post_graphql, token_for
from tests.e2e.wsclient import connect
from tests.factories import create_post, create_user, gid

FEED = "subscription { postPublished { id title author { name } } }"


def live_field_details() -> int:
    gc.collect()
    return sum(isinstance(thing, FieldDetails) for thing in gc.get_objects())


async def test_events_leave_nothing_behind_in_a_subscription(live_server):
    server = live_server
    author = await create_user(name="Ada")
    token = token_for(server, author)
    drafts = [
        await create_post(author, title=f"Post {n}", status=PostStatus.DRAFT) for n in range(11)
    ]
    async with connect(server.ws_url) as socket:
        await socket.init()
        await socket.subscribe("feed", FEED)
        await subscribers(server, events.POST_PUBLISHED, 1)

        await post_graphql(server, PUBLISH_POST, {"id": gid("Post", drafts[0].id)}, token)
        assert (await socket.receive())["type"] == "next"
        after_first = live_field_details()
        for draft in drafts[1:]:
            await post_graphql(server, PUBLISH_POST, {"id": gid("Post", draft.id)}, token)
            assert (await socket.receive())["type"] == "next"

        assert live_field_details() == after_first
