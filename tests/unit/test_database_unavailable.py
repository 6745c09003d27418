"""The rules of services/unavailable.py, one exception each; the failures themselves are
produced for real in tests/integration/test_database_unavailable.py."""

from __future__ import annotations

import pytest
from asyncpg import exceptions as pg
from tortoise.exceptions import DBConnectionError, IntegrityError, OperationalError

from services.errors import Conflict
from services.unavailable import DatabaseUnreachable, database_unavailable, service_unavailable


def raised_while_handling(error: Exception, context: Exception) -> Exception:
    """``error`` as Python chains it when raised in an ``except`` block for ``context``."""
    error.__context__ = context
    return error


@pytest.mark.parametrize(
    "error",
    [
        DatabaseUnreachable("cannot connect to the database: [Errno 111] Connection refused"),
        DBConnectionError("Can't establish connection to database agora"),
        pg.CannotConnectNowError("the database system is starting up"),
        pg.CannotConnectNowError("the database system is shutting down"),
        pg.AdminShutdownError("terminating connection due to administrator command"),
        pg.CrashShutdownError("terminating connection because of crash of another process"),
        pg.TooManyConnectionsError("sorry, too many clients already"),
        pg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        pg.ConnectionFailureError("connection failure"),
        pg.InterfaceError("connection is closed"),
        pg.InterfaceError(
            "cannot call Transaction.rollback(): the underlying connection is closed"
        ),
        pg.InternalClientError("cannot switch to state 12; another operation (2) is in progress"),
        raised_while_handling(
            ValueError("rollback failed"), pg.InterfaceError("connection is closed")
        ),
    ],
    ids=repr,
)
def test_a_lost_or_refused_database_connection_is_unavailability(error):
    assert database_unavailable(error)
    unavailable = service_unavailable(error)
    assert unavailable is not None
    assert unavailable.http_status == 503
    assert unavailable.headers == {"Retry-After": "5"}


@pytest.mark.parametrize(
    "error",
    [
        ValueError("a bug"),
        FileNotFoundError("an OSError that is not the database's"),
        ConnectionRefusedError("refused, but not by the database pool"),
        IntegrityError("duplicate key value violates unique constraint"),
        OperationalError("syntax error at or near"),
        pg.QueryCanceledError("canceling statement due to statement timeout"),
        pg.UniqueViolationError("duplicate key value violates unique constraint"),
        pg.InterfaceError("cannot perform operation: another operation is in progress"),
        pg.InterfaceError("pool is closed"),
        pg.InternalClientError("cannot switch to state 12; another operation (11) is in progress"),
        raised_while_handling(
            Conflict("keeps its code"), pg.InterfaceError("connection is closed")
        ),
    ],
    ids=repr,
)
def test_any_other_failure_is_not_unavailability(error):
    assert service_unavailable(error) is None
