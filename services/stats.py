"""Statistics, each one SQL aggregate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.functions import Count, Sum

from models.orders import Order, OrderStatus

MAX_LIMIT = 100


@dataclass(frozen=True)  # no slots: resolvers attach prefetched values to its __dict__
class CustomerStats:
    user_id: int
    total_orders: int
    total_cents: int


async def top_customers(limit: int, since: datetime | None) -> list[CustomerStats]:
    """Buyers by money spent on COMPLETED orders (ties: more orders, then lower id), as
    one ``SELECT … GROUP BY buyer_id ORDER BY … LIMIT`` statement."""
    query = Order.filter(status=OrderStatus.COMPLETED)
    if since is not None:
        # In UTC, like the stored values: SQLite compares datetimes as text, so
        # 14:00+02:00 must become 12:00+00:00 (a naive value is taken as UTC).
        since = since.astimezone(UTC) if since.tzinfo else since.replace(tzinfo=UTC)
        query = query.filter(created_at__gte=since)
    rows = (
        await query.annotate(orders_count=Count("id"), spent=Sum("total_cents"))
        .group_by("buyer_id")
        .order_by("-spent", "-orders_count", "buyer_id")
        .limit(limit)
        .values("buyer_id", "orders_count", "spent")
    )
    return [
        CustomerStats(int(row["buyer_id"]), int(row["orders_count"]), int(row["spent"]))
        for row in rows
    ]
