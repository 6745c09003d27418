"""``node(id:)``: any object by its global ID, with the visibility rules of its own query."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from resolvers.catalogue import resolve_product
from resolvers.files import resolve_file
from resolvers.orders import resolve_order
from resolvers.posts import resolve_post
from resolvers.prefetch import prefetch_one
from resolvers.users import resolve_user
from services import posts
from vocabulary.context import Info
from vocabulary.relay import from_global_id, optional_int_pk

NodeFetcher = Callable[[Info, str], Awaitable[Any]]


async def _comment(info: Info, global_id: str) -> Any:
    from models.posts import Comment

    comment_id = optional_int_pk(global_id, "Comment")
    comment = await Comment.get_or_none(id=comment_id) if comment_id else None
    if comment is None:
        return None
    post = await info.context.loaders.posts.by_id.load(comment.post_id)
    if post is None or not posts.is_visible(post, info.context.user):
        return None
    await prefetch_one(info, comment)
    return comment


async def _transfer(info: Info, global_id: str) -> Any:
    from models.wallet import Transfer

    viewer = info.context.user
    transfer_id = optional_int_pk(global_id, "Transfer")
    if viewer is None or transfer_id is None:
        return None
    transfer = await Transfer.get_or_none(id=transfer_id)
    if transfer is None or viewer.id not in (transfer.sender_id, transfer.receiver_id):
        return None
    await prefetch_one(info, transfer)
    return transfer


async def _order(info: Info, global_id: str) -> Any:
    return None if info.context.user is None else await resolve_order(info, global_id)


NODE_FETCHERS: dict[str, NodeFetcher] = {
    "User": resolve_user,
    "Post": resolve_post,
    "Comment": _comment,
    "Product": resolve_product,
    "Order": _order,
    "Transfer": _transfer,
    "File": resolve_file,
}


async def resolve_node(info: Info, global_id: str) -> Any:
    type_name, _ = from_global_id(global_id)
    fetch = NODE_FETCHERS.get(type_name)
    return None if fetch is None else await fetch(info, global_id)
