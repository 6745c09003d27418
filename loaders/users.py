"""Users by primary key (through the cache)."""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from loaders.level import level_loader
from models.user import User
from services.cache import ModelCache


async def load_users(ids: Sequence[int], cache: ModelCache | None = None) -> list[User | None]:
    """Every row, deleted accounts included ("Deleted user"): relations such as a post's
    author must still resolve. Lookups by id (``user``, ``node``) hide deleted accounts."""
    if cache is not None:
        return await cache.models_by_id("users", User, ids)
    found = {user.id: user for user in await User.filter(id__in=list(ids))}
    return [found.get(user_id) for user_id in ids]


class UserLoaders:
    def __init__(self, cache: ModelCache | None = None) -> None:
        async def load(ids: Sequence[int]) -> list[User | None]:
            return await load_users(ids, cache)

        self.by_id: DataLoader[int, User | None] = level_loader(load, "users.load_users")
