"""The Query root."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import UNSET

from resolvers import catalogue, orders, posts, wallet
from resolvers import users as user_resolvers
from resolvers.node import resolve_node, resolve_nodes
from schema.permissions import HasPermission, authenticated, requires
from schema.types.catalogue import Product
from schema.types.orders import Order
from schema.types.posts import Post
from schema.types.user import User
from schema.types.wallet import CustomerStats, Transfer
from vocabulary.arguments import given, page_args
from vocabulary.cache_hints import (
    CATALOGUE_MAX_AGE,
    FEED_MAX_AGE,
    NEVER_CACHED,
    VIEWER_ONLY,
    cache_control,
)
from vocabulary.connections import Connection
from vocabulary.context import Info
from vocabulary.directives import MAX_NODES_IDS, connection_size, limit_size, list_size
from vocabulary.enums import (
    OrderDirection,
    Permission,
    PostOrderField,
    ProductOrderField,
    UserOrderField,
)
from vocabulary.inputs import OrderFilter, PostFilter, ProductFilter, UserFilter
from vocabulary.relay import Node

TOP_CUSTOMERS_LIMIT = 10


@strawberry.type
class Query:
    # Its answer is as old as the freshest kind of node; a fragment on a type (`... on Order`)
    # brings that type's own hint (schema.cache_control).
    @strawberry.field(
        description="Any object by its global ID; null when it does not exist.",
        directives=[cache_control(max_age=FEED_MAX_AGE)],
    )
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)  # type: ignore[no-any-return]

    @strawberry.field(
        description=(
            "Objects by global ID, in the order asked (Relay): null for an ID that does not "
            "exist or that the caller may not see, as `node` answers; at most NODES_MAX_IDS "
            "(100) IDs. One statement per type."
        ),
        directives=[list_size(assumed_size=MAX_NODES_IDS)],
    )
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        return await resolve_nodes(info, ids)

    @strawberry.field(
        description="The authenticated caller; null when anonymous.", directives=[VIEWER_ONLY]
    )
    async def me(self, info: Info) -> User | None:
        return await user_resolvers.resolve_me(info)  # type: ignore[return-value]

    @strawberry.field(description="A user by ID; null when there is none.")
    async def user(self, info: Info, id: strawberry.ID) -> User | None:
        return await user_resolvers.resolve_user(info, id)  # type: ignore[return-value]

    @strawberry.field(
        directives=[connection_size(), NEVER_CACHED],
        description="Users, filtered and ordered (READ_USERS).",
        extensions=requires(HasPermission(Permission.READ_USERS)),
    )
    async def users(
        self,
        info: Info,
        first: int | None = UNSET,
        after: str | None = UNSET,
        last: int | None = UNSET,
        before: str | None = UNSET,
        filter: UserFilter | None = UNSET,
        order_by: UserOrderField | None = UserOrderField.CREATED_AT,
        direction: OrderDirection | None = OrderDirection.DESC,
    ) -> Connection[User]:
        return await user_resolvers.resolve_users(
            info,
            page_args(first, after, last, before),
            given(filter),
            order_by or UserOrderField.CREATED_AT,
            direction or OrderDirection.DESC,
        )

    @strawberry.field(description="A post by ID; null when it does not exist or is not visible.")
    async def post(self, info: Info, id: strawberry.ID) -> Post | None:
        return await posts.resolve_post(info, id)  # type: ignore[return-value]

    @strawberry.field(
        directives=[connection_size(), cache_control(max_age=FEED_MAX_AGE)],
        description=(
            "Posts: PUBLISHED unless `filter.status` asks for another status (drafts and "
            "archived posts are visible to their author and MODERATE_POSTS)."
        ),
    )
    async def posts(
        self,
        info: Info,
        first: int | None = UNSET,
        after: str | None = UNSET,
        last: int | None = UNSET,
        before: str | None = UNSET,
        filter: PostFilter | None = UNSET,
        order_by: PostOrderField | None = PostOrderField.CREATED_AT,
        direction: OrderDirection | None = OrderDirection.DESC,
    ) -> Connection[Post]:
        return await posts.resolve_posts(
            info,
            page_args(first, after, last, before),
            given(filter),
            order_by or PostOrderField.CREATED_AT,
            direction or OrderDirection.DESC,
        )

    @strawberry.field(description="A product by ID; null when there is none.")
    async def product(self, info: Info, id: strawberry.ID) -> Product | None:
        return await catalogue.resolve_product(info, id)  # type: ignore[return-value]

    @strawberry.field(
        description="Products: ACTIVE unless `filter.status` asks for ARCHIVED.",
        directives=[connection_size(), cache_control(max_age=CATALOGUE_MAX_AGE)],
    )
    async def products(
        self,
        info: Info,
        first: int | None = UNSET,
        after: str | None = UNSET,
        last: int | None = UNSET,
        before: str | None = UNSET,
        filter: ProductFilter | None = UNSET,
        order_by: ProductOrderField | None = ProductOrderField.CREATED_AT,
        direction: OrderDirection | None = OrderDirection.DESC,
    ) -> Connection[Product]:
        return await catalogue.resolve_products(
            info,
            page_args(first, after, last, before),
            given(filter),
            order_by or ProductOrderField.CREATED_AT,
            direction or OrderDirection.DESC,
        )

    @strawberry.field(
        description="An order: its buyer or MANAGE_ORDERS; null otherwise.",
        extensions=authenticated(),
        directives=[NEVER_CACHED],
    )
    async def order(self, info: Info, id: strawberry.ID) -> Order | None:
        return await orders.resolve_order(info, id)  # type: ignore[return-value]

    @strawberry.field(
        directives=[connection_size(), NEVER_CACHED],
        description="Your orders, newest first; every order (filterable) with MANAGE_ORDERS.",
        extensions=authenticated(),
    )
    async def orders(
        self,
        info: Info,
        first: int | None = UNSET,
        after: str | None = UNSET,
        last: int | None = UNSET,
        before: str | None = UNSET,
        filter: OrderFilter | None = UNSET,
    ) -> Connection[Order]:
        return await orders.resolve_orders(
            info, page_args(first, after, last, before), given(filter)
        )

    @strawberry.field(
        description="Transfers you sent or received, newest first.",
        extensions=authenticated(),
        directives=[connection_size(), NEVER_CACHED],
    )
    async def transfers(
        self,
        info: Info,
        first: int | None = UNSET,
        after: str | None = UNSET,
        last: int | None = UNSET,
        before: str | None = UNSET,
    ) -> Connection[Transfer]:
        return await wallet.resolve_transfers(info, page_args(first, after, last, before))

    @strawberry.field(
        description=(
            "Customers by money spent on COMPLETED orders (READ_STATS); one SQL aggregate."
        ),
        extensions=requires(HasPermission(Permission.READ_STATS)),
        directives=[limit_size(TOP_CUSTOMERS_LIMIT), NEVER_CACHED],
    )
    async def top_customers(
        self, info: Info, limit: int | None = TOP_CUSTOMERS_LIMIT, since: datetime | None = UNSET
    ) -> list[CustomerStats]:
        return await wallet.resolve_top_customers(  # type: ignore[return-value]
            info, TOP_CUSTOMERS_LIMIT if limit is None else limit, given(since)
        )
