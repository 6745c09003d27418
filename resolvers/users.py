"""User queries and mutations."""

from __future__ import annotations

from typing import Any

from models.user import Role, User
from resolvers.invalidation import users_changed
from resolvers.prefetch import prefetch_one, prefetch_page
from services import events, users
from services.files import FileService
from services.pagination import Ordering, PageArgs, paginate
from vocabulary.arguments import given
from vocabulary.connections import Connection
from vocabulary.context import Info
from vocabulary.enums import OrderDirection, UserOrderField
from vocabulary.inputs import UpdateProfileInput, UserFilter
from vocabulary.relay import from_global_id, int_pk, parse_int_pk


async def resolve_me(info: Info) -> User | None:
    await prefetch_one(info, info.context.user)
    return info.context.user


async def resolve_user(info: Info, global_id: str) -> User | None:
    type_name, pk = from_global_id(global_id)
    user_id = parse_int_pk(pk) if type_name == "User" else None
    if user_id is None:
        return None
    user = await info.context.loaders.users.by_id.load(user_id)
    if user is None or user.deleted_at is not None:
        return None
    await prefetch_one(info, user)
    return user


async def resolve_users(
    info: Info,
    page: PageArgs,
    filter: UserFilter | None,
    order_by: UserOrderField,
    direction: OrderDirection,
) -> Connection[Any]:
    criteria = filter or UserFilter()
    query = users.search_users(given(criteria.search), given(criteria.role), given(criteria.status))
    result = await paginate(query, Ordering(order_by.value, direction.descending), page)
    for user in result.items:
        info.context.loaders.users.by_id.prime(user.id, user)
    return await prefetch_page(info, result)


async def update_profile(info: Info, data: UpdateProfileInput) -> User:
    user = await users.update_profile(info.context.require_user(), given(data.name))
    await users_changed(info, [user.id])
    return user


async def update_user_role(info: Info, global_id: str, role: Role) -> User:
    context = info.context
    user = await users.change_role(
        context.require_user(), int_pk(global_id, "User"), role, context.client.ip
    )
    await users_changed(info, [user.id])
    await events.sessions_ended(context.container.pubsub, user.id)
    return user


async def suspend_user(info: Info, global_id: str, reason: str | None) -> User:
    context = info.context
    user = await users.suspend(
        context.require_user(), int_pk(global_id, "User"), reason, context.client.ip
    )
    await users_changed(info, [user.id])
    await events.sessions_ended(context.container.pubsub, user.id)
    return user


async def delete_user(info: Info, global_id: str) -> bool:
    context = info.context
    user_id = int_pk(global_id, "User")
    await users.delete(context.require_user(), user_id, context.client.ip)
    # Their files are personal data too: rows and stored objects go after the commit.
    await FileService(context.container.storage, context.settings).remove_all_of(user_id)
    await users_changed(info, [user_id])
    await events.sessions_ended(context.container.pubsub, user_id)
    return True
