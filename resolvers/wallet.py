"""Transfers, deposits and statistics."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tortoise.expressions import Q

from models.user import User
from models.wallet import Transfer
from resolvers.invalidation import users_changed
from resolvers.prefetch import current_field, fields_of, prefetch, prefetch_one, prefetch_page
from services import notifications, stats, wallet
from services.errors import BadUserInput
from services.pagination import Ordering, PageArgs, paginate
from vocabulary.arguments import given
from vocabulary.connections import Connection
from vocabulary.context import Info
from vocabulary.inputs import TransferInput
from vocabulary.relay import int_pk

TRANSFER_ORDER = Ordering("created_at", descending=True)


async def resolve_transfers(info: Info, page: PageArgs) -> Connection[Any]:
    viewer = info.context.require_user()
    query = Transfer.filter(Q(sender_id=viewer.id) | Q(receiver_id=viewer.id))
    return await prefetch_page(info, await paginate(query, TRANSFER_ORDER, page))


async def resolve_top_customers(
    info: Info, limit: int, since: datetime | None
) -> list[stats.CustomerStats]:
    if not 1 <= limit <= stats.MAX_LIMIT:
        raise BadUserInput(f"`limit` must be between 1 and {stats.MAX_LIMIT}", argument="limit")
    rows = await stats.top_customers(limit, since)
    await prefetch(info, rows, fields_of(current_field(info).selections))
    return rows


async def transfer(info: Info, data: TransferInput) -> Transfer:
    sender = info.context.require_user()
    started = datetime.now(UTC)
    made = await wallet.transfer(
        sender,
        int_pk(data.to_user_id, "User"),
        data.amount,
        given(data.note),
        data.idempotency_key,
    )
    await users_changed(info, [made.sender_id, made.receiver_id])
    if made.created_at >= started:  # made now, not an idempotent replay
        await notifications.on_transfer_received(info.context.container, made, sender)
    await prefetch_one(info, made)
    return made


async def deposit_funds(info: Info, user_id: str, amount: Decimal) -> User:
    user = await wallet.deposit(int_pk(user_id, "User"), amount)
    await users_changed(info, [user.id])
    info.context.loaders.users.by_id.prime(user.id, user)
    return user
