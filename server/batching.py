"""A batch (a JSON array of operations in one request): run in order, one after the other (a
mutation's effects are seen by the operations after it), each on its own context, and all
within one cost limit (``BatchCost``, kept by the cost step of ``RequestPipeline``). An
operation refused before it runs answers its own error: the others run (and a mutation among
them is not reported as failed when it was done)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence

from cross_web import HTTPException
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from loaders import Loaders
from server.refusals import http_exception_error, refused
from services.errors import AppError
from vocabulary.context import BatchCost, Context, IncrementalDelivery

ExecuteOne = Callable[[Context, GraphQLRequestData], Awaitable[ExecutionResult]]
Authenticate = Callable[[Context, str], Awaitable[None]]


async def execute_batch(
    requests: Sequence[GraphQLRequestData],
    context: Context,
    *,
    execute: ExecuteOne,
    authenticate: Authenticate,
    fresh_loaders: Callable[[], Loaders],
) -> list[ExecutionResult]:
    """Every operation's result, in order."""
    # One response carries a batch: no operation of it may stream (@defer, @stream).
    context.incremental_delivery = IncrementalDelivery.IN_BATCH
    batch_cost = BatchCost()
    results: list[ExecutionResult] = []
    for index, data in enumerate(requests):
        results.append(
            await execute_batched(
                context,
                data,
                first=index == 0,
                batch_cost=batch_cost,
                execute=execute,
                authenticate=authenticate,
                fresh_loaders=fresh_loaders,
            )
        )
    return results


async def batched_context(
    context: Context,
    *,
    first: bool,
    authenticate: Authenticate,
    fresh_loaders: Callable[[], Loaders],
) -> Context:
    """The context of one operation of a batch: the request's for the first, then fresh
    loaders (their cache would answer what an earlier mutation changed) and the token
    checked again (an earlier ``logoutAll`` or ``changePassword`` revoked it)."""
    if first:
        return context
    fresh = dataclasses.replace(context, loaders=fresh_loaders())
    authorization = context.request.headers.get("authorization")
    if authorization is not None:
        await authenticate(fresh, authorization)
    return fresh


async def execute_batched(
    context: Context,
    request_data: GraphQLRequestData,
    *,
    first: bool,
    batch_cost: BatchCost,
    execute: ExecuteOne,
    authenticate: Authenticate,
    fresh_loaders: Callable[[], Loaders],
) -> ExecutionResult:
    """One operation of a batch, its refusal as its own result."""
    try:
        operation_context = await batched_context(
            context, first=first, authenticate=authenticate, fresh_loaders=fresh_loaders
        )
        operation_context.batch_cost = batch_cost
        return await execute(operation_context, request_data)
    # Answered inside each handler: an exception kept in a local past its handler holds
    # this frame through its traceback, a cycle that keeps the operation's context alive.
    except HTTPException as exc:
        return refused(http_exception_error(exc))
    except AppError as exc:
        return refused(exc)
