"""Users by primary key."""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from models.user import User


async def load_users_by_id(ids: Sequence[int]) -> list[User | None]:
    """Every row, deleted accounts included ("Deleted user"): relations such as a post's
    author must still resolve. Lookups by id (``user``, ``node``) hide deleted accounts."""
    found = {user.id: user for user in await User.filter(id__in=list(ids))}
    return [found.get(user_id) for user_id in ids]


class UserLoaders:
    def __init__(self) -> None:
        self.by_id: DataLoader[int, User | None] = DataLoader(load_fn=load_users_by_id)
