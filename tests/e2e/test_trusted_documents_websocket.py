"""Trusted documents over the websocket, against a real uvicorn: in allow-list mode a
subscribe with a document that is not in the manifest gets an ``error`` message with
PERSISTED_QUERY_NOT_ALLOWED (nothing runs), and a manifest document subscribes as usual."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from models.posts import PostStatus
from services import events
from tests.e2e.conftest import subscribers
from tests.e2e.test_subscriptions import token_for
from tests.e2e.wsclient import LEGACY_WS, TRANSPORT_WS, connect
from tests.factories import create_post, create_user, gid

TRUSTED = "subscription Published { postPublished { id } }"
PUBLISH = "mutation Publish($id: ID!) { publishPost(id: $id) { id } }"
UNLISTED = "subscription { postPublished { id title } }"
PROTOCOLS = pytest.mark.parametrize(
    "protocol", [TRANSPORT_WS, LEGACY_WS], ids=["transport", "legacy"]
)


@pytest.fixture
async def allow_list_server(live_server_factory: Any, tmp_path: Path) -> Any:
    manifest = tmp_path / "persisted-documents.json"
    manifest.write_text(
        json.dumps({hashlib.sha256(text.encode()).hexdigest(): text for text in (TRUSTED, PUBLISH)})
    )
    return await live_server_factory(
        trusted_documents_mode="allow-list", trusted_documents_manifest=str(manifest)
    )


@PROTOCOLS
async def test_an_untrusted_subscription_is_refused_with_not_allowed(allow_list_server, protocol):
    async with connect(allow_list_server.ws_url, protocol) as socket:
        await socket.init()
        await socket.subscribe("1", UNLISTED)
        message = await socket.receive()

    assert message["type"] == "error"
    errors = message["payload"] if isinstance(message["payload"], list) else [message["payload"]]
    assert errors[0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"


async def test_a_trusted_subscription_receives_the_event_of_a_trusted_mutation(
    allow_list_server,
):
    author = await create_user()
    draft = await create_post(author, status=PostStatus.DRAFT)
    async with connect(allow_list_server.ws_url, TRANSPORT_WS) as socket:
        await socket.init()
        await socket.subscribe("1", TRUSTED)
        await subscribers(allow_list_server, events.POST_PUBLISHED, 1)
        async with httpx.AsyncClient(base_url=allow_list_server.base_url) as client:
            published = await client.post(
                "/graphql",
                json={
                    "documentId": f"sha256:{hashlib.sha256(PUBLISH.encode()).hexdigest()}",
                    "variables": {"id": gid("Post", draft.id)},
                },
                headers={"Authorization": f"Bearer {token_for(allow_list_server, author)}"},
            )
        assert "errors" not in published.json(), published.json()

        message = await socket.receive()

    assert message["type"] == "next"
    assert message["payload"]["data"]["postPublished"] == {"id": gid("Post", draft.id)}
