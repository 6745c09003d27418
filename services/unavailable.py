"""Which failures mean "the database is unavailable", answered SERVICE_UNAVAILABLE (HTTP 503,
``Retry-After``) instead of INTERNAL_SERVER_ERROR.

Every rule below was seen while a PostgreSQL was stopped (fast and immediate), restarted and
had backends terminated under load (tests/e2e/test_postgres_restart.py,
tests/integration/test_database_unavailable.py): opening a connection fails (refused, timed
out: ``DatabaseUnreachable``; "the database system is starting up / shutting down": 57P03),
a statement in flight is cut (57P01 admin shutdown, 57P02 crash shutdown, or asyncpg's
``ConnectionDoesNotExistError``, SQLSTATE class 08), and the next statement on a connection
that is already gone fails in asyncpg itself ("connection is closed", or the
``InternalClientError`` explained at ``_TERMINATED_WHILE_IDLE``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from asyncpg.exceptions import InterfaceError, InternalClientError, PostgresError
from tortoise.exceptions import DBConnectionError

from core.faults import dependency_failed
from services.errors import AppError, ServiceUnavailable

logger = logging.getLogger("agora.database")

# SQLSTATEs that end or refuse the session rather than the statement: admin_shutdown,
# crash_shutdown, cannot_connect_now, too_many_connections. Class 08 (connection_exception)
# counts as a whole.
_SESSION_ENDED = frozenset({"57P01", "57P02", "57P03", "53300"})
_CONNECTION_EXCEPTION_CLASS = "08"

# asyncpg (0.32) has no handler for an ErrorResponse that arrives while its protocol is
# idle, which is how PostgreSQL ends a session (the FATAL it sends before closing on a
# shutdown, pg_terminate_backend, idle_session_timeout): it switches to its "discard until
# ReadyForQuery" state, PROTOCOL_ERROR_CONSUME = 2. Until the event loop handles the EOF that
# follows, the connection still reports itself open, and the next statement on it fails
# with "cannot switch to state N; another operation (2) is in progress". No second operation
# is involved (MagicStack/asyncpg#1069); two operations at once on one connection raise
# InterfaceError "cannot perform operation: another operation is in progress" instead.
_TERMINATED_WHILE_IDLE = "another operation (2) is in progress"
_CLOSED = "connection is closed"


class DatabaseUnreachable(ConnectionError):
    """The pool could not open a connection to the database (refused, reset, unknown host,
    timed out): raised by ``server.database.connect`` in place of the bare ``OSError``, which
    would say nothing about where it came from."""


def _chain(error: BaseException) -> Iterator[BaseException]:
    """``error`` and the exceptions it was raised from or while handling (a rollback that
    fails after a lost connection reports the loss as its context)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _means_unavailable(error: BaseException) -> bool:
    if isinstance(error, (DatabaseUnreachable, DBConnectionError)):
        return True
    if isinstance(error, PostgresError):
        state = str(getattr(error, "sqlstate", "") or "")
        return state in _SESSION_ENDED or state.startswith(_CONNECTION_EXCEPTION_CLASS)
    if isinstance(error, InterfaceError):
        return _CLOSED in str(error)
    if isinstance(error, InternalClientError):
        return _TERMINATED_WHILE_IDLE in str(error)
    return False


def database_unavailable(error: BaseException) -> bool:
    """True when ``error`` (or what it was raised from) says the database cannot be reached
    or dropped the connection: a retry later can succeed, the request itself was fine."""
    return any(_means_unavailable(link) for link in _chain(error))


def service_unavailable(error: BaseException) -> ServiceUnavailable | None:
    """The client's answer to a database outage (``None`` for any other failure)."""
    if isinstance(error, AppError) or not database_unavailable(error):
        return None
    return ServiceUnavailable()


def log_outage(error: BaseException) -> None:
    """One line, no stack: the request was fine, the database was not."""
    dependency_failed(
        logger, "database", "request", "database unavailable: %s: %s", type(error).__name__, error
    )


@contextmanager
def outage_as_service_unavailable() -> Iterator[None]:
    """Re-raise a database outage inside the block as ServiceUnavailable (an AppError, which
    every caller already answers in the error contract)."""
    try:
        yield
    except Exception as exc:
        if (unavailable := service_unavailable(exc)) is None:
            raise
        log_outage(exc)
        raise unavailable from exc
