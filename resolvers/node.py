"""``node(id:)`` and ``nodes(ids:)``: objects by global ID, with the visibility rules of their
own queries.

Both go through one path: the ids are grouped by type, each type's rows are loaded in one
statement (its by-id DataLoader where there is one) and filtered by that type's visibility
rule, and what is selected below them is prefetched a level at a time for each type. An id
the viewer may not see answers null, exactly like one that does not exist.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from loaders.level import load_level
from resolvers.prefetch import current_field, fields_of, prefetch
from services import posts
from services.errors import BadUserInput
from services.files import can_manage
from services.orders import can_read_orders_of
from vocabulary.context import Context, Info
from vocabulary.relay import from_global_id, parse_int_pk

# The rows among these primary keys that the viewer may see, by primary key.
NodeBatch = Callable[[Context, list[int]], Awaitable[dict[int, Any]]]


def _present(pks: Sequence[int], rows: Sequence[Any]) -> dict[int, Any]:
    return {pk: row for pk, row in zip(pks, rows, strict=True) if row is not None}


async def _users(context: Context, pks: list[int]) -> dict[int, Any]:
    rows = _present(pks, await load_level(context.loaders.users.by_id, pks))
    return {pk: user for pk, user in rows.items() if user.deleted_at is None}


async def _posts(context: Context, pks: list[int]) -> dict[int, Any]:
    rows = _present(pks, await load_level(context.loaders.posts.by_id, pks))
    return {pk: post for pk, post in rows.items() if posts.is_visible(post, context.user)}


async def _comments(context: Context, pks: list[int]) -> dict[int, Any]:
    from models.posts import Comment

    comments = await Comment.filter(id__in=pks)
    post_ids = sorted({comment.post_id for comment in comments})
    parents = _present(post_ids, await load_level(context.loaders.posts.by_id, post_ids))
    return {
        comment.id: comment
        for comment in comments
        if (post := parents.get(comment.post_id)) is not None
        and posts.is_visible(post, context.user)
    }


async def _products(context: Context, pks: list[int]) -> dict[int, Any]:
    return _present(pks, await load_level(context.loaders.catalogue.products_by_id, pks))


async def _orders(context: Context, pks: list[int]) -> dict[int, Any]:
    from models.orders import Order

    viewer = context.user
    if viewer is None:
        return {}
    return {
        order.id: order
        for order in await Order.filter(id__in=pks)
        if can_read_orders_of(viewer, order.buyer_id)
    }


async def _transfers(context: Context, pks: list[int]) -> dict[int, Any]:
    from models.wallet import Transfer

    viewer = context.user
    if viewer is None:
        return {}
    return {
        transfer.id: transfer
        for transfer in await Transfer.filter(id__in=pks)
        if viewer.id in (transfer.sender_id, transfer.receiver_id)
    }


async def _files(context: Context, pks: list[int]) -> dict[int, Any]:
    rows = _present(pks, await load_level(context.loaders.files.by_id, pks))
    return {pk: file for pk, file in rows.items() if can_manage(context.user, file)}


NODE_FETCHERS: dict[str, NodeBatch] = {
    "User": _users,
    "Post": _posts,
    "Comment": _comments,
    "Product": _products,
    "Order": _orders,
    "Transfer": _transfers,
    "File": _files,
}


async def fetch_nodes(info: Info, global_ids: Sequence[str]) -> list[Any]:
    """The objects of ``global_ids`` in their order (null where there is none or the viewer
    may not see it): one statement per type, then the selection prefetched per type."""
    context = info.context
    keys: list[tuple[str, int] | None] = []
    wanted: dict[str, dict[int, None]] = {}
    for global_id in global_ids:
        type_name, pk = from_global_id(global_id)  # a malformed ID is BAD_USER_INPUT
        key = parse_int_pk(pk)
        if type_name not in NODE_FETCHERS or key is None:
            keys.append(None)
            continue
        keys.append((type_name, key))
        wanted.setdefault(type_name, {})[key] = None
    names = list(wanted)
    found = dict(
        zip(
            names,
            await asyncio.gather(
                *(NODE_FETCHERS[name](context, list(wanted[name])) for name in names)
            ),
            strict=True,
        )
    )
    fields = fields_of(current_field(info).selections)
    await asyncio.gather(*(prefetch(info, list(rows.values()), fields) for rows in found.values()))
    return [None if key is None else found[key[0]].get(key[1]) for key in keys]


async def resolve_node(info: Info, global_id: str) -> Any:
    [node] = await fetch_nodes(info, [global_id])
    return node


async def resolve_nodes(info: Info, global_ids: Sequence[str]) -> list[Any]:
    limit = info.context.settings.nodes_max_ids
    if len(global_ids) > limit:
        raise BadUserInput(
            f"`ids` lists {len(global_ids)} IDs; at most {limit} per call",
            argument="ids",
        )
    return await fetch_nodes(info, global_ids)
