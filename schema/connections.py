"""Relay connections: ``XConnection { edges nodes pageInfo totalCount }`` for any node type."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import strawberry

from schema.cost import cost
from schema.relay import PageInfo
from services.pagination import Page

NodeType = TypeVar("NodeType")


@strawberry.type(description="A node and the cursor that points at it.")
class Edge(Generic[NodeType]):
    cursor: str
    node: NodeType


@strawberry.type(description="One page of a list, with keyset cursors.")
class Connection(Generic[NodeType]):
    edges: list[Edge[NodeType]]
    nodes: list[NodeType]
    page_info: PageInfo
    page: strawberry.Private[Page[Any]]

    @strawberry.field(
        description="The number of items in the whole list (a COUNT, run only when selected).",
        directives=[cost(1)],
    )
    async def total_count(self) -> int:
        return await self.page.total_count()


def connection_from_page(page: Page[Any]) -> Connection[Any]:
    return Connection(
        edges=[
            Edge(cursor=cursor, node=item)
            for cursor, item in zip(page.cursors, page.items, strict=True)
        ],
        nodes=page.items,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
        page=page,
    )
