"""Users by primary key (through the cache)."""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from models.user import User
from services.cache import ModelCache


async def load_users(ids: Sequence[int], cache: ModelCache | None = None) -> list[User | None]:
    """Every row, deleted accounts included ("Deleted user"): relations such as a post's
    author must still resolve. Lookups by id (``user``, ``node``) hide deleted accounts."""
    found: dict[int, User] = await cache.get_models("users", User, ids) if cache else {}
    missing = [user_id for user_id in ids if user_id not in found]
    if missing:
        loaded = await User.filter(id__in=missing)
        found.update((user.id, user) for user in loaded)
        if cache:
            await cache.put_models("users", loaded)
    return [found.get(user_id) for user_id in ids]


class UserLoaders:
    def __init__(self, cache: ModelCache | None = None) -> None:
        async def load(ids: Sequence[int]) -> list[User | None]:
            return await load_users(ids, cache)

        self.by_id: DataLoader[int, User | None] = DataLoader(load_fn=load)
