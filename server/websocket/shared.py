"""Shared execution: subscriptions of this process whose answers cannot differ follow one
stream and share one execution per event.

A group is decided by the document text, operation name and variables, and by the smallest
key of the viewer that decides the answer: the largest ``ViewerDependence`` among the fields
the operation selects (``schema/viewer_dependence.py``):

- ``NONE``: every viewer (anonymous or not) shares the group;
- ``ROLE``: one group per role (anonymous is one);
- ``OWNER``: one group per role, executed as a stand-in of that role who is nobody; the
  execution notes the users it answered about (``Context.owners_seen``), and the members
  who are one of them (the post's author, for ``author { email }``) get their own
  execution of that event, with their own context and loaders;
- ``USER``: one group per user (their own notifications).

The leader never runs as one member for the others: except in ``USER`` groups, its viewer
is a stand-in (``vocabulary.viewer.stand_in``) or anonymous, so nothing a member's identity
allows reaches another member. Each member passed validation, cost, permissions and the
resolver's subscribe-time checks itself before joining; the leader runs on the schema
without extensions, with the subscribe-time checks off (``checked_by_members``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
import uuid
from collections.abc import AsyncIterable, Callable, Hashable
from typing import TYPE_CHECKING, Any

import orjson
from graphql import (
    DocumentNode,
    Executor,
    GraphQLError,
    OperationType,
    create_source_event_stream,
    execute_subscription_event,
    get_operation_ast,
    parse,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.types.execution import ExecutionResult
from strawberry.utils.aio import aclosing

from loaders import Loaders
from resolvers.attachments import detached_copy
from resolvers.subscriptions import checked_by_members
from schema.extensions import parse_document
from schema.viewer_dependence import operation_dependence
from server.websocket.encoded import EncodedPayload
from services.queues import DropOldestQueue
from vocabulary.viewer import ViewerDependence, stand_in

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


@dataclasses.dataclass(frozen=True, slots=True)
class GroupKey:
    query: str
    operation_name: str | None
    variables: bytes  # sorted JSON
    dependence: ViewerDependence
    # NONE: None; ROLE and OWNER: the role's value, or None for anonymous; USER: the
    # (user id, role) pair, or None for anonymous.
    viewer: Hashable


class Group:
    __slots__ = ("document", "finished", "key", "members", "task")

    def __init__(self, key: GroupKey) -> None:
        self.key = key
        # Each member's own context (its viewer, for an OWNER group's own executions).
        self.members: dict[Member, Context] = {}
        self.finished = False
        self.task: asyncio.Task[None] | None = None
        # The group's own parse: prefetched values are attached under its nodes, on objects
        # other groups may share (one ``Loaders`` per event), so no two groups share nodes.
        self.document: DocumentNode | None = None

    def broadcast(self, item: Item) -> None:
        for member in self.members:
            self._put(member, item)

    def deliver(self, payload: dict[str, Any], own: dict[int, dict[str, Any]]) -> None:
        """``payload`` to every member, except the users in ``own``, who get theirs; each
        encoded once, however many sockets it goes to."""
        item: Item = ("next", EncodedPayload(payload))
        theirs = {user_id: ("next", EncodedPayload(mine)) for user_id, mine in own.items()}
        for member, context in self.members.items():
            user = context.user
            mine = theirs.get(user.id) if theirs and user is not None else None
            self._put(member, item if mine is None else mine)

    @staticmethod
    def _put(member: Member, item: Item) -> None:
        if member.put(item):
            logger.warning("a subscriber is too slow: dropped its oldest event")


def viewer_key(dependence: ViewerDependence, context: Context) -> Hashable:
    user = context.user
    if dependence is ViewerDependence.NONE:
        return None
    if dependence is ViewerDependence.USER:
        return (user.id, user.role.value) if user is not None else None
    return user.role.value if user is not None else None


def leader_context(key: GroupKey, first: Context) -> Context:
    """What the group's leader runs as: never one member's identity, except for a USER
    group (all its members are that user)."""
    if key.dependence is ViewerDependence.USER:
        return dataclasses.replace(
            first,
            loaders=Loaders(first.container.cache),
            request_id=f"subscription-{uuid.uuid4().hex}",
            owners_seen=None,
        )
    # NONE: any viewer answers the same; the first member's role passes the root field's
    # permission classes, which every member passed.
    return dataclasses.replace(
        first,
        user=None if first.user is None else stand_in(first.user.role),
        session_id=None,
        claims=None,
        connection_params=None,  # the first member's token
        client_key="subscription",
        loaders=Loaders(first.container.cache),
        request_id=f"subscription-{uuid.uuid4().hex}",
        owners_seen=None,
    )


class SharedSubscriptions:
    """The groups of this process. A group's leader is one task following the topic; it
    ends when its last member leaves, and when its source ends (the pub/sub closing at
    shutdown) its members get what was queued, then complete."""

    def __init__(self, view: RealtimeView, schema: Schema) -> None:
        self._view = view
        self._schema = schema
        self._graphql_schema = schema._schema
        self._executor_class = schema.execution_context_class
        self._groups: dict[GroupKey, Group] = {}

    def key(
        self,
        query: str,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        context: Context,
    ) -> GroupKey | None:
        """The group of a subscription operation; None for anything else (queries,
        mutations, documents that do not parse: they run on their own)."""
        try:
            document = parse_document(query, self._view.settings.query_max_tokens)
        except GraphQLError:
            return None
        operation = get_operation_ast(document, operation_name)
        if operation is None or operation.operation is not OperationType.SUBSCRIPTION:
            return None
        dependence = operation_dependence(self._graphql_schema, document, operation)
        return GroupKey(
            query,
            operation_name,
            orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS),
            dependence,
            viewer_key(dependence, context),
        )

    def join(
        self,
        key: GroupKey,
        variables: dict[str, Any] | None,
        context: Context,
        on_drop: Callable[[], object] | None = None,
    ) -> tuple[Group, Member]:
        """``context`` joins the group of ``key``; ``on_drop`` is called each time its queue
        drops its oldest item."""
        group = self._groups.get(key)
        if group is None or group.finished:
            group = Group(key)
            self._groups[key] = group
            group.task = asyncio.create_task(
                self._lead(group, variables, leader_context(key, context))
            )
        member: Member = DropOldestQueue(MEMBER_QUEUE_SIZE, on_drop)
        group.members[member] = context
        return group, member

    def leave(self, group: Group, member: Member) -> None:
        group.members.pop(member, None)
        if not group.members and not group.finished:
            group.finished = True
            self._forget(group)
            if group.task is not None:
                group.task.cancel()

    def _forget(self, group: Group) -> None:
        if self._groups.get(group.key) is group:
            del self._groups[group.key]

    async def _lead(self, group: Group, variables: dict[str, Any] | None, leader: Context) -> None:
        view = self._view
        key = group.key
        try:
            with checked_by_members():
                group.document = parse(key.query)
                executor = self._executor(group, variables, leader)
                if isinstance(executor, list):
                    errors = executor
                else:
                    source = await self._source(executor)
                    if not isinstance(source, GraphQLExecutionResult):
                        async with aclosing(source):
                            await self._follow(group, variables, executor, source)
                        return
                    errors = source.errors or [GraphQLError("The subscription did not start")]
                group.broadcast(("error", view.websocket_errors(errors, leader)))
        except Exception as exc:
            logger.exception("a shared subscription failed")
            error = GraphQLError(str(exc), original_error=exc)
            group.broadcast(("error", view.websocket_errors([error], leader)))
        finally:
            group.finished = True
            self._forget(group)
            for member in group.members:
                member.end()

    def _executor(
        self, group: Group, variables: dict[str, Any] | None, context: Context
    ) -> Executor[Any] | list[GraphQLError]:
        """The group's operation as run with ``context`` (variables coerced once)."""
        assert group.document is not None
        return self._executor_class.build(
            self._graphql_schema,
            group.document,
            None,
            context,
            variables,
            group.key.operation_name,
        )

    @staticmethod
    async def _source(executor: Executor[Any]) -> AsyncIterable[Any] | GraphQLExecutionResult:
        """The subscription's source stream (its resolver), or the errors that stopped it."""
        source = create_source_event_stream(executor)
        if executor.is_awaitable(source):
            source = await source
        return source  # type: ignore[return-value]

    async def _follow(
        self,
        group: Group,
        variables: dict[str, Any] | None,
        executor: Executor[Any],
        source: AsyncIterable[Any],
    ) -> None:
        view = self._view
        leader: Context = executor.context_value
        owner_dependent = group.key.dependence is ViewerDependence.OWNER
        # Reset before each event: the source's prefetch notes owners too.
        leader.owners_seen = set() if owner_dependent else None
        async for event in source:
            result = await self._execute(executor, event)
            if view.is_request_error(result):
                group.broadcast(("error", view.websocket_errors(result.errors or [], leader)))
                return
            own: dict[int, dict[str, Any]] = {}
            if leader.owners_seen:
                own = await self._own_executions(group, event, variables, leader.owners_seen)
                leader.owners_seen = set()
            group.deliver(view.websocket_payload(result, leader), own)

    async def _own_executions(
        self,
        group: Group,
        event: Any,
        variables: dict[str, Any] | None,
        owners: set[int],
    ) -> dict[int, dict[str, Any]]:
        """The event executed again for each member who is a user the shared execution
        answered about, as that member: with their own context, fresh loaders and a copy
        of the event's row without what the shared execution prefetched."""
        contexts: dict[int, Context] = {}
        for context in group.members.values():
            user = context.user
            if user is not None and user.id in owners and user.id not in contexts:
                contexts[user.id] = context
        payloads: dict[int, dict[str, Any]] = {}
        for user_id, member in contexts.items():
            context = dataclasses.replace(
                member, loaders=Loaders(member.container.cache), owners_seen=None
            )
            executor = self._executor(group, variables, context)
            assert not isinstance(executor, list), "the leader's coercion succeeded"
            result = await self._execute(executor, detached_copy(event))
            payloads[user_id] = self._view.websocket_payload(result, context)
        return payloads

    async def _execute(self, executor: Executor[Any], event: Any) -> ExecutionResult:
        result = execute_subscription_event(executor.build_per_event_executor(event))
        if inspect.isawaitable(result):
            result = await result
        assert isinstance(result, GraphQLExecutionResult)
        if result.errors:
            self._schema.process_errors(result.errors)
        return ExecutionResult(data=result.data, errors=result.errors)
