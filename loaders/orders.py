"""Order lines per order."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from loaders.level import level_loader
from models.orders import OrderItem


async def load_items(order_ids: Sequence[int]) -> list[list[OrderItem]]:
    grouped: dict[int, list[OrderItem]] = defaultdict(list)
    for item in await OrderItem.filter(order_id__in=list(order_ids)).order_by("order_id", "id"):
        grouped[item.order_id].append(item)
    return [grouped.get(order_id, []) for order_id in order_ids]


class OrderLoaders:
    def __init__(self) -> None:
        self.items_by_order: DataLoader[int, list[OrderItem]] = level_loader(load_items)
