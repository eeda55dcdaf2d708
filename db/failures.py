"""What a database failure means, decided once for both data-access paths.

A lost serialization race is retried (`RetryTransaction`); an outage (connection lost or
refused, timeouts, the server failing) fails closed as `RiskUnavailable`; anything else is a
bug in a statement or its values and stays the error it is.
"""

from __future__ import annotations

import sqlite3

import asyncpg
from sqlalchemy import exc

from domain.errors import RiskUnavailable

RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock

# Driver errors that are a statement's own fault (constraint, syntax, value), not the
# database's. A missing table is an outage: a database not migrated yet fails closed.
_BUGS = (
    sqlite3.IntegrityError,
    sqlite3.ProgrammingError,
    sqlite3.DataError,
    asyncpg.IntegrityConstraintViolationError,
    asyncpg.PostgresSyntaxError,
    asyncpg.DataError,
)
_OUTAGES = (
    sqlite3.Error,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    exc.TimeoutError,  # no pooled connection came free in time
    exc.DisconnectionError,
    OSError,
    TimeoutError,
)
# Errors a driver-level statement may raise that `classify` has an answer for.
DRIVER_ERRORS = (
    sqlite3.Error,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    OSError,
)


class RetryTransaction(Exception):
    """The transaction lost a serialization race and may be run again."""


def is_duplicate(error: BaseException) -> bool:
    """A unique key was taken by a concurrent transaction (a lost race, not a bug, where no
    lock orders the writers)."""
    return sqlstate(error) == "23505"


def unavailable() -> RiskUnavailable:
    return RiskUnavailable("the risk store is unavailable; nothing was done")


def sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a driver error, or of the driver error behind a SQLAlchemy one."""
    orig = getattr(error, "orig", None)
    for candidate in (error, orig, getattr(orig, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if code:
            return str(code)
    return None


def _driver_error(error: BaseException) -> BaseException:
    """The driver's own error behind a SQLAlchemy one (asyncpg's is the adapter's cause)."""
    if not isinstance(error, exc.DBAPIError):
        return error
    orig: BaseException = error.orig or error
    cause = orig.__cause__
    return cause if isinstance(cause, asyncpg.PostgresError | asyncpg.InterfaceError) else orig


def classify(error: BaseException) -> BaseException | None:
    """RetryTransaction for a lost race, RiskUnavailable for an outage, None for a bug.

    The same driver error means the same whichever path (Core or driver-level) raised it.
    """
    if sqlstate(error) in RETRYABLE_SQLSTATES:
        return RetryTransaction()
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return unavailable()
    error = _driver_error(error)
    if isinstance(error, _BUGS):
        return None
    if isinstance(error, _OUTAGES):
        return unavailable()
    return None
