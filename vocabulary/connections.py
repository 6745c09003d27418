"""Relay connections: ``XConnection { edges nodes pageInfo totalCount }`` for any node type."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import strawberry

from services.pagination import Page
from vocabulary.cache_hints import INHERIT_MAX_AGE
from vocabulary.directives import cost
from vocabulary.relay import PageInfo

NodeType = TypeVar("NodeType")


@strawberry.type(
    description="A node and the cursor that points at it.", directives=[INHERIT_MAX_AGE]
)
class Edge(Generic[NodeType]):
    @strawberry.field
    def cursor(self) -> str:  # encoded only when a client selects it
        return self.page.cursor(self.index)

    node: NodeType
    page: strawberry.Private[Page[Any]]
    index: strawberry.Private[int]


@strawberry.type(
    description="One page of a list, with keyset cursors.", directives=[INHERIT_MAX_AGE]
)
class Connection(Generic[NodeType]):
    edges: list[Edge[NodeType]]
    nodes: list[NodeType]
    page: strawberry.Private[Page[Any]]

    @strawberry.field
    def page_info(self) -> PageInfo:  # its cursors are encoded only when a client asks
        page = self.page
        return PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursor(0) if page.items else None,
            end_cursor=page.cursor(len(page.items) - 1) if page.items else None,
        )

    @strawberry.field(
        description="The number of items in the whole list (a COUNT, run only when selected).",
        directives=[cost(1)],
    )
    async def total_count(self) -> int:
        return await self.page.total_count()


def connection_from_page(page: Page[Any]) -> Connection[Any]:
    return Connection(
        edges=[Edge(node=item, page=page, index=index) for index, item in enumerate(page.items)],
        nodes=page.items,
        page=page,
    )
