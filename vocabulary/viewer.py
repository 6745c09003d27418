"""Viewer dependence: how much of the viewer a field's answer depends on, declared where the
field is (``metadata=depends_on_viewer(...)``).

Shared subscription execution reads it (``schema/viewer_dependence.py`` walks a document;
``server/websocket/shared.py`` groups subscribers by the smallest key that decides their
answer). A field that reads the viewer in any way must declare it; a field that declares
``OWNER`` must note the users it answers about (``Context.is_self_or``,
``Context.note_owners``), since that is how a shared execution learns who gets their own.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from models.user import Role, User, UserStatus

if TYPE_CHECKING:
    from strawberry.types.field import StrawberryField


class ViewerDependence(enum.IntEnum):
    """What of the viewer decides a field's answer; larger values decide more."""

    NONE = 0  # nothing: every viewer is served the same
    ROLE = 1  # the viewer's role (anonymous counts as one)
    # The role, and whether the viewer is the user the object names (a user's own email,
    # balance, orders, draft posts): members who are that user get their own execution.
    OWNER = 2
    USER = 3  # the viewer's identity itself (e.g. their own notifications)


_DEPENDENCE = "agora-viewer-dependence"


def depends_on_viewer(dependence: ViewerDependence) -> dict[str, object]:
    """A field's ``metadata`` (merge with ``prefetched(...)`` on a relation)."""
    return {_DEPENDENCE: dependence}


def declared_dependence(field: StrawberryField) -> ViewerDependence:
    dependence: ViewerDependence = field.metadata.get(_DEPENDENCE, ViewerDependence.NONE)
    return dependence


# No user has this id (primary keys start at 1): every "is it the viewer?" check fails.
STAND_IN_ID = -1


def stand_in(role: Role) -> User:
    """A viewer with ``role`` who is nobody: what a shared execution runs as, so that no
    member's identity reaches another member's answer. Never saved."""
    return User(
        id=STAND_IN_ID,
        name="",
        email="",
        password_hash="",
        role=role,
        status=UserStatus.ACTIVE,
        token_version=0,
    )
