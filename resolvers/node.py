"""``node(id:)``: any object by its global ID."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from schema.context import Info
from schema.relay import from_global_id, parse_int_pk

NodeFetcher = Callable[[Info, str], Awaitable[Any]]


async def _user(info: Info, pk: str) -> Any:
    user_id = parse_int_pk(pk)
    return None if user_id is None else await info.context.loaders.users.by_id.load(user_id)


NODE_FETCHERS: dict[str, NodeFetcher] = {"User": _user}


async def resolve_node(info: Info, global_id: str) -> Any:
    type_name, pk = from_global_id(global_id)
    fetch = NODE_FETCHERS.get(type_name)
    return None if fetch is None else await fetch(info, pk)
