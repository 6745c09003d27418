"""Shared execution: identical subscriptions of this process follow one stream."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import logging
import uuid
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

import orjson
from graphql import GraphQLError, OperationType, get_operation_ast
from strawberry.types.execution import ExecutionResult
from strawberry.utils.aio import aclosing

from loaders import Loaders
from schema.extensions import parse_document
from services.queues import DropOldestQueue

if TYPE_CHECKING:
    from strawberry import Schema

    from server.websocket.connection import RealtimeView
    from vocabulary.context import Context

logger = logging.getLogger("agora.websocket")

MEMBER_QUEUE_SIZE = 256

# What a member receives: ``("next", payload)`` or ``("error", errors)``.
Item = tuple[str, Any]
# One operation following a shared subscription; a slow client loses its oldest events.
Member = DropOldestQueue[Item]


class Group:
    __slots__ = ("finished", "key", "members", "task")

    def __init__(self, key: Hashable) -> None:
        self.key = key
        self.members: set[Member] = set()
        self.finished = False
        self.task: asyncio.Task[None] | None = None

    def broadcast(self, item: Item) -> None:
        for member in self.members:
            if member.put(item):
                logger.warning("a subscriber is too slow: dropped its oldest event")


class SharedSubscriptions:
    """Identical subscriptions of this process share one execution per event.

    Identical means the same document text, operation name, variables and viewer (user and
    role, or anonymous): they would be served the same payload. The group's leader is its
    own subscription stream, run on a schema without the per-client extensions (each
    member already passed validation, cost and permissions itself), with a copy of the
    first member's context; it ends when its last member leaves, and when its source ends
    (the pub/sub closing at shutdown) its members get what was queued, then complete."""

    def __init__(self, view: RealtimeView, schema: Schema) -> None:
        self._view = view
        # A shallow copy shares the GraphQL schema; only the extension list differs.
        self._schema = copy.copy(schema)
        self._schema.extensions = ()
        self._groups: dict[Hashable, Group] = {}

    def key(
        self,
        query: str,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        context: Context,
    ) -> Hashable | None:
        """The group of a subscription operation; None for anything else (queries,
        mutations, documents that do not parse: they run on their own)."""
        try:
            document = parse_document(query, self._view.settings.query_max_tokens)
        except GraphQLError:
            return None
        operation = get_operation_ast(document, operation_name)
        if operation is None or operation.operation is not OperationType.SUBSCRIPTION:
            return None
        user = context.user
        viewer = (user.id, user.role.value) if user is not None else None
        return (
            query,
            operation_name,
            orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS),
            viewer,
        )

    def join(
        self,
        key: Hashable,
        query: str,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        context: Context,
    ) -> tuple[Group, Member]:
        group = self._groups.get(key)
        if group is None or group.finished:
            group = Group(key)
            self._groups[key] = group
            leader = dataclasses.replace(
                context,
                loaders=Loaders(context.container.cache),
                request_id=f"subscription-{uuid.uuid4().hex}",
            )
            group.task = asyncio.create_task(
                self._lead(group, query, operation_name, variables, leader)
            )
        member: Member = DropOldestQueue(MEMBER_QUEUE_SIZE)
        group.members.add(member)
        return group, member

    def leave(self, group: Group, member: Member) -> None:
        group.members.discard(member)
        if not group.members and not group.finished:
            group.finished = True
            self._forget(group)
            if group.task is not None:
                group.task.cancel()

    def _forget(self, group: Group) -> None:
        if self._groups.get(group.key) is group:
            del self._groups[group.key]

    async def _lead(
        self,
        group: Group,
        query: str,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        context: Context,
    ) -> None:
        view = self._view
        try:
            source = await self._schema.stream(
                query,
                variable_values=variables,
                context_value=context,
                operation_name=operation_name,
            )
            async with aclosing(source):
                first = True
                async for result in source:
                    if not isinstance(result, ExecutionResult) or (
                        first and view.is_request_error(result)
                    ):
                        errors = getattr(result, "errors", None) or [
                            GraphQLError("Incremental delivery is not supported here")
                        ]
                        group.broadcast(("error", view.websocket_errors(errors, context)))
                        return
                    first = False
                    group.broadcast(("next", view.websocket_payload(result, context)))
        except Exception as exc:
            logger.exception("a shared subscription failed")
            error = GraphQLError(str(exc), original_error=exc)
            group.broadcast(("error", view.websocket_errors([error], context)))
        finally:
            group.finished = True
            self._forget(group)
            for member in group.members:
                member.end()
