"""Engines and units of work: one SQLite writer, bounded retries, failures mapped once.

Every database access is a unit of work, `Database.read(work)` or `Database.write(work)`:
`work` runs in one transaction on a connection that it owns in a task of its own, so that
cancelling the caller (a refused sibling field, a client gone, a timeout) never cuts a
statement in half; the work then rolls back instead of committing. A connection that failed
or was found closed is never handed out again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from sqlalchemy import event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from db.failures import RetryTransaction, classify
from db.lean import DirectLean, Lean, PgDirectLean, run_whole
from domain.errors import RiskgateError, RiskUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

WRITE_ATTEMPTS = 4
_READ, _WRITE = "BEGIN", "BEGIN IMMEDIATE"  # how a SQLite unit of work begins


def _sqlite_listeners(engine: AsyncEngine, *, writer: bool, busy_timeout_ms: int) -> None:
    # pysqlite's own transaction handling is off so that BEGIN is ours: the writer takes
    # the write lock up front (BEGIN IMMEDIATE) instead of failing to upgrade later.
    begin = _WRITE if writer else _READ

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    # Defence in depth: a connection is never handed out still inside a transaction (it
    # would hold the write lock, or read a stale snapshot); the pool reconnects instead.
    @event.listens_for(engine.sync_engine, "checkout")
    def idle(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_conn.driver_connection.in_transaction:
            raise exc.DisconnectionError("the connection came back inside a transaction")

    path = engine.url.database
    if not path or path == ":memory:":
        return

    # A pooled connection keeps a deleted or replaced database file open and would go on
    # writing to it unseen; notice and reconnect (a missing schema then fails closed).
    @event.listens_for(engine.sync_engine, "connect")
    def remember_file(_dbapi_conn: Any, record: Any) -> None:
        record.info["inode"] = _inode(path)

    @event.listens_for(engine.sync_engine, "checkout")
    def same_file(_dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if _inode(path) != record.info.get("inode"):
            raise exc.DisconnectionError("the database file was replaced")


def _postgres_listeners(engine: AsyncEngine) -> None:
    # Defence in depth: a driver connection that was closed or terminated under the pool
    # (a statement cancelled half-way, a backend killed) or that is somehow still inside a
    # transaction is never handed out; the pool replaces it with a fresh one.
    @event.listens_for(engine.sync_engine, "checkout")
    def usable(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        driver = dbapi_conn.driver_connection
        if driver is None or driver.is_closed():
            raise exc.DisconnectionError("the driver connection is closed")
        if driver.is_in_transaction():
            raise exc.DisconnectionError("the connection came back inside a transaction")


def _inode(path: str) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


class Database:
    """The project's handle on its database: a writer and a reader path."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        statement_timeout_ms: int = 5000,
    ) -> None:
        self.url: URL = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.statement_timeout_s = statement_timeout_ms / 1000
        self._detached: set[asyncio.Task[Any]] = set()
        if self.is_sqlite:
            # One writer connection: several would only queue in SQLite's busy handler.
            # No rollback on check-in (each costs a thread hop): every unit of work ends in
            # COMMIT or ROLLBACK itself, and a connection still inside a transaction is
            # never handed out again (the `idle` check below).
            self.writer = create_async_engine(
                self.url,
                pool_size=1,
                max_overflow=0,
                pool_timeout=statement_timeout_ms / 1000,
                pool_reset_on_return=None,
            )
            self.reader = create_async_engine(
                self.url, pool_size=4, max_overflow=4, pool_reset_on_return=None
            )
            busy = statement_timeout_ms
            _sqlite_listeners(self.writer, writer=True, busy_timeout_ms=busy)
            _sqlite_listeners(self.reader, writer=False, busy_timeout_ms=busy)
        else:
            self.writer = create_async_engine(
                self.url,
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_timeout=statement_timeout_ms / 1000,
                pool_pre_ping=False,
                connect_args={
                    "timeout": statement_timeout_ms / 1000,
                    "command_timeout": statement_timeout_ms / 1000 * 2,
                    "server_settings": {
                        "statement_timeout": str(statement_timeout_ms),
                        "lock_timeout": str(statement_timeout_ms),
                        "idle_in_transaction_session_timeout": str(statement_timeout_ms * 6),
                        "application_name": "riskgate",
                    },
                },
            )
            _postgres_listeners(self.writer)
            self.reader = self.writer

    async def dispose(self) -> None:
        # Units of work whose caller went away still finish (roll back) before the pools go.
        if self._detached:
            await asyncio.wait(set(self._detached), timeout=self.statement_timeout_s * 2)
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()

    async def read(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run `work` in one read-only transaction (no retries: reads do not conflict)."""
        try:
            return await self._owned(lambda unit: self._unit(self.reader, work, unit))
        except RetryTransaction as error:
            raise RiskUnavailable("the risk store is busy; try again") from error

    async def write(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run `work` in one write transaction, retrying serialization failures a few times."""
        for attempt in range(WRITE_ATTEMPTS):
            try:
                return await self._owned(lambda unit: self._unit(self.writer, work, unit))
            except RetryTransaction:
                await asyncio.sleep(0.002 * (2**attempt))
        raise RiskUnavailable("the risk store stayed contended; nothing was done")

    async def read_direct(self, work: Callable[[Lean], Awaitable[T]]) -> T:
        """`read` for work made only of driver-level statements (the hot paths).

        On SQLite the whole unit runs in one hop on the connection's thread (`DirectLean`);
        on PostgreSQL its statements run without BEGIN, each on its own snapshot.
        """
        if not self.is_sqlite:
            try:
                return await self._owned(lambda unit: self._pg_direct(work, unit, writes=False))
            except RetryTransaction as error:
                raise RiskUnavailable("the risk store is busy; try again") from error
        return await self._owned(lambda unit: self._direct(self.reader, _READ, work, unit))

    async def write_direct(self, work: Callable[[Lean], Awaitable[T]]) -> T:
        """`write` for work made only of driver-level statements (the hot paths).

        On SQLite the whole unit (BEGIN IMMEDIATE, statements, COMMIT) runs in one hop on
        the single writer's thread; a lost race cannot happen there, so nothing retries. On
        PostgreSQL the transaction is the driver's own, without SQLAlchemy's on the way.
        """
        if not self.is_sqlite:
            for attempt in range(WRITE_ATTEMPTS):
                try:
                    return await self._owned(lambda unit: self._pg_direct(work, unit, writes=True))
                except RetryTransaction:
                    await asyncio.sleep(0.002 * (2**attempt))
            raise RiskUnavailable("the risk store stayed contended; nothing was done")
        return await self._owned(lambda unit: self._direct(self.writer, _WRITE, work, unit))

    async def _owned(self, run: Callable[[_Unit], Coroutine[Any, Any, T]]) -> T:
        """Run a unit of work in a task of its own that owns the connection.

        A caller can be cancelled at any await: graphql-core cancels the sibling fields of
        a refused one, a client goes away, a check times out. Cancelling a statement half-way
        leaves its connection unusable, so the caller is cancelled but the unit of work is
        not: it finishes its statement and rolls back (a caller that is gone gets nothing
        committed), and its connection goes back to the pool clean.
        """
        unit = _Unit()
        task = asyncio.create_task(run(unit))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            unit.abandoned = True
            self._detached.add(task)
            task.add_done_callback(self._forget)
            raise

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self._detached.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("abandoned unit of work ended with %s", type(task.exception()).__name__)

    async def _unit(
        self, engine: AsyncEngine, work: Callable[[AsyncConnection], Awaitable[T]], unit: _Unit
    ) -> T:
        try:
            async with engine.connect() as conn:
                await conn.begin()
                try:
                    result = await work(conn)
                    if unit.abandoned:
                        raise _Abandoned
                    await conn.commit()
                except BaseException as error:
                    await _discard(conn, error)
                    raise
                return result
        except RiskgateError:
            raise
        except Exception as error:
            raise _mapped(error) from error

    async def _direct(
        self, engine: AsyncEngine, begin: str, work: Callable[[Lean], Awaitable[T]], unit: _Unit
    ) -> T:
        try:
            async with engine.connect() as conn:
                raw = await conn.get_raw_connection()
                driver: Any = raw.driver_connection
                try:
                    # aiosqlite's own queue to its thread: one hop for the whole unit.
                    result: T = await driver._execute(_run_unit, driver._conn, begin, work, unit)
                except BaseException as error:
                    if _broken(error):
                        with contextlib.suppress(Exception):
                            await conn.invalidate()
                    raise
                return result
        except RiskgateError:
            raise
        except Exception as error:
            raise _mapped(error) from error

    async def _pg_direct(
        self, work: Callable[[Lean], Awaitable[T]], unit: _Unit, *, writes: bool
    ) -> T:
        """A unit of driver-level work on a pooled asyncpg connection, whose BEGIN and
        COMMIT (none when it only reads) the driver sends itself: BEGIN with the unit's
        first statement (`PgDirectLean`)."""
        try:
            async with self.writer.connect() as conn:
                raw = await conn.get_raw_connection()
                driver: Any = raw.driver_connection
                try:
                    lean = (
                        PgDirectLean(conn, driver)
                        if writes
                        else Lean(conn, driver, is_pg=True, read_only=True)
                    )
                    result = await work(lean)
                    if unit.abandoned:
                        raise _Abandoned
                    if isinstance(lean, PgDirectLean) and lean.begun:
                        await driver.execute("COMMIT")
                    return result
                except BaseException as error:
                    await _end_driver_transaction(conn, driver, error)
                    raise
        except RiskgateError:
            raise
        except Exception as error:
            raise _mapped(error) from error


def _mapped(error: Exception) -> BaseException:
    mapped = classify(error)
    if mapped is None:
        return error
    if isinstance(mapped, RiskUnavailable):
        log.warning("database unavailable: %s", type(error).__name__)
    return mapped


def _run_unit(
    raw: sqlite3.Connection, begin: str, work: Callable[[Lean], Awaitable[T]], unit: _Unit
) -> T:
    """On the SQLite connection's thread: the whole unit of work, then COMMIT or ROLLBACK."""
    raw.execute(begin)
    try:
        result: T = run_whole(work(DirectLean(raw, read_only=begin == _READ)))
        if unit.abandoned:
            raise _Abandoned
        raw.execute("COMMIT")
        return result
    except BaseException:
        if raw.in_transaction:
            raw.execute("ROLLBACK")
        raise


class _Unit:
    """Shared between a caller and its unit of work: did the caller go away?"""

    __slots__ = ("abandoned",)

    def __init__(self) -> None:
        self.abandoned = False


class _Abandoned(Exception):
    """The caller went away before the commit: the work is rolled back, not committed."""


def _broken(error: BaseException) -> bool:
    """Whether a unit that failed this way may have left its connection unusable."""
    return isinstance(error, asyncio.CancelledError | RiskUnavailable) or isinstance(
        classify(error), RiskUnavailable
    )


async def _end_driver_transaction(conn: AsyncConnection, driver: Any, error: BaseException) -> None:
    """End a failed driver-level unit: roll its transaction back, or drop a connection that
    may be broken (the pool then replaces it)."""
    if not _broken(error) and not driver.is_closed():
        try:
            if driver.is_in_transaction():
                await driver.execute("ROLLBACK")
            return
        except Exception as rollback_error:
            log.warning("rollback failed: %s", type(rollback_error).__name__)
    with contextlib.suppress(Exception):
        await conn.invalidate()


async def _discard(conn: AsyncConnection, error: BaseException) -> None:
    """End a failed unit of work; a connection that may be broken never returns to the pool."""
    if not _broken(error):
        try:
            await conn.rollback()
            return
        except Exception as rollback_error:
            log.warning("rollback failed: %s", type(rollback_error).__name__)
    with contextlib.suppress(Exception):
        await conn.invalidate()
