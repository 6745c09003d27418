"""What a shared subscription's leader runs as: never one member's identity (except in a
group of one user), so nothing that identity allows reaches another member."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

import pytest

from models.user import Role, User
from server.websocket.shared import GroupKey, leader_context
from vocabulary.context import Context
from vocabulary.viewer import STAND_IN_ID, ViewerDependence


def member(role: Role = Role.ADMIN) -> Context:
    user = User(id=7, name="Ada", email="ada@example.com", role=role, token_version=3)
    container: Any = SimpleNamespace(cache=None)
    return Context(
        request=None,  # type: ignore[arg-type]
        response=None,
        container=container,
        request_id="r",
        client_key="user:7",
        user=user,
        session_id=uuid.uuid4(),
        claims=object(),  # type: ignore[arg-type]
        connection_params={"Authorization": "Bearer secret"},
    )


def key(dependence: ViewerDependence) -> GroupKey:
    return GroupKey("subscription { x }", None, b"{}", dependence, None)


@pytest.mark.parametrize(
    "dependence", [ViewerDependence.NONE, ViewerDependence.ROLE, ViewerDependence.OWNER]
)
def test_a_shared_leader_is_a_stand_in_of_the_role_without_the_member_s_token(dependence):
    leader = leader_context(key(dependence), member(Role.MODERATOR))

    assert leader.user is not None
    assert leader.user.id == STAND_IN_ID
    assert leader.user.role is Role.MODERATOR
    assert (leader.session_id, leader.claims, leader.connection_params) == (None, None, None)
    assert leader.client_key != "user:7"


def test_an_anonymous_member_s_group_is_led_anonymously():
    first = member()
    first.user = None
    assert leader_context(key(ViewerDependence.OWNER), first).user is None


def test_a_group_of_one_user_is_led_as_that_user():
    first = member()
    leader = leader_context(key(ViewerDependence.USER), first)
    assert leader.user is first.user
    assert leader.loaders is not first.loaders
