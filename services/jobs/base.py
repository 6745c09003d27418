"""What every job backend shares: the queue interface, the handler context, the registry of
handlers by name, and how job arguments are shown in logs."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Concatenate, Protocol, TypeVar

from opentelemetry.trace import SpanKind

from core import tracing
from services.mail.message import Mailer, mask_email
from services.push.base import PushProvider
from services.push.log import LogPushProvider

if TYPE_CHECKING:
    from services.entity_changes import EntityChanges
    from services.storage import Storage

DEFAULT_QUEUE_NAME = "agora"
# Where a saq job keeps the trace context of the request that queued it (``Job.meta``).
TRACE_META_KEY = "trace"
REDACTED = "[redacted]"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


class FollowUpQueue:
    """The queue a running job queues further jobs on (``ctx.jobs.enqueue(...)``).

    The context is built before the queue that carries it, so the container and the worker
    ``bind`` the real queue once it exists; enqueueing before that raises RuntimeError."""

    def __init__(self, queue: JobQueue | None = None) -> None:
        self._queue = queue

    def bind(self, queue: JobQueue) -> None:
        self._queue = queue

    async def enqueue(self, name: str, **kwargs: Any) -> str:
        if self._queue is None:
            raise RuntimeError(f"job {name!r}: no job queue is bound to this JobContext")
        return await self._queue.enqueue(name, **kwargs)


@dataclass(frozen=True, slots=True)
class JobContext:
    """What handlers get as their first argument; built once per process by the container
    (API) or by ``run_worker`` (worker)."""

    mailer: Mailer
    # Push notifications (the send_push job); the log backend unless configured.
    push: PushProvider = field(default_factory=LogPushProvider)
    # Follow-up jobs (the weekly report queues one send_email per admin).
    jobs: FollowUpQueue = field(default_factory=FollowUpQueue)
    # Uploaded files (the daily cleanup removes orphaned objects); None: not cleaned.
    storage: Storage | None = None
    # A job that changes what the API shows says so after its commit (the caches drop it);
    # None: a context without caches (tests, tools).
    changes: EntityChanges | None = None


JobHandler = Callable[Concatenate[JobContext, ...], Awaitable[Any]]
H = TypeVar("H", bound=JobHandler)


class JobQueue(Protocol):
    async def enqueue(self, name: str, **kwargs: Any) -> str:
        """Queue the job ``name`` with JSON-serialisable keyword arguments; return its id.
        Never raises because the job fails later; raises ``UnknownJobError`` for a name no
        handler is registered under, and TypeError for arguments JSON cannot carry."""
        ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class UnknownJobError(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class JobDefinition:
    name: str
    handler: JobHandler
    # Arguments never written to logs or kept in `failed` (message bodies carry tokens).
    sensitive: frozenset[str] = frozenset()

    def safe_kwargs(self, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """The arguments as logs may show them: sensitive ones redacted, addresses masked."""
        return {
            key: REDACTED
            if key in self.sensitive
            else mask_email(value)
            if isinstance(value, str) and _EMAIL.match(value)
            else value
            for key, value in kwargs.items()
        }


class JobRegistry:
    """Handlers by name: ``async def handler(ctx: JobContext, **kwargs) -> Any``."""

    def __init__(self, definitions: Iterable[JobDefinition] = ()) -> None:
        self._jobs: dict[str, JobDefinition] = {}
        for definition in definitions:
            self._add(definition)

    def register(
        self, name: str, handler: JobHandler, *, sensitive: Iterable[str] = ()
    ) -> JobDefinition:
        return self._add(JobDefinition(name, handler, frozenset(sensitive)))

    def job(self, name: str, *, sensitive: Iterable[str] = ()) -> Callable[[H], H]:
        """Decorator form of ``register``."""

        def decorate(handler: H) -> H:
            self.register(name, handler, sensitive=sensitive)
            return handler

        return decorate

    def get(self, name: str) -> JobDefinition:
        try:
            return self._jobs[name]
        except KeyError:
            raise UnknownJobError(
                f"no job named {name!r}; registered: {sorted(self._jobs)}"
            ) from None

    def copy(self) -> JobRegistry:
        return JobRegistry(self._jobs.values())

    def __iter__(self) -> Iterator[JobDefinition]:
        return iter(self._jobs.values())

    def __contains__(self, name: object) -> bool:
        return name in self._jobs

    def __len__(self) -> int:
        return len(self._jobs)

    def _add(self, definition: JobDefinition) -> JobDefinition:
        if definition.name in self._jobs:
            raise ValueError(f"a job named {definition.name!r} is already registered")
        self._jobs[definition.name] = definition
        return definition


@dataclass(frozen=True, slots=True)
class FailedJob:
    """A job that used up its attempts (or was cancelled at shutdown), kept for inspection."""

    job_id: str
    name: str
    kwargs: dict[str, Any]  # as `JobDefinition.safe_kwargs` shows them
    attempts: int
    error: str
    failed_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def describe_error(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def job_span(
    definition: JobDefinition, trace_headers: Mapping[str, str] | None, job_id: str, attempt: int
) -> AbstractContextManager[object]:
    """One attempt of a job as a span: a child of (and linked to) the request that queued it
    (``trace_headers``, ``tracing.carrier()`` taken at enqueue); nothing with tracing off."""
    return tracing.continued_span(
        f"job {definition.name}",
        trace_headers,
        kind=SpanKind.CONSUMER,
        parent=True,
        attributes={"agora.job.id": job_id, "agora.job.attempt": attempt},
    )
