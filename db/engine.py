"""Engines and transactions: one SQLite writer, bounded retries, failures mapped once."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from db.lean import RetryTransaction
from domain.errors import RiskgateError, RiskUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock
WRITE_ATTEMPTS = 4


def _sqlstate(error: BaseException) -> str | None:
    orig = getattr(error, "orig", None)
    for candidate in (orig, getattr(orig, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if code:
            return str(code)
    return None


def _is_unavailable(error: BaseException) -> bool:
    """Errors that mean the database cannot answer now, as opposed to a bug."""
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(
        error,
        exc.OperationalError
        | exc.InterfaceError
        | exc.TimeoutError
        | exc.InternalError
        | OSError
        | TimeoutError
        | ConnectionError,
    )


def _sqlite_listeners(engine: AsyncEngine, *, writer: bool, busy_timeout_ms: int) -> None:
    # pysqlite's own transaction handling is off so that BEGIN is ours: the writer takes
    # the write lock up front (BEGIN IMMEDIATE) instead of failing to upgrade later.
    begin = "BEGIN IMMEDIATE" if writer else "BEGIN"

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
        if self.is_sqlite:
            # One writer connection: several would only queue in SQLite's busy handler.
            self.writer = create_async_engine(
                self.url, pool_size=1, max_overflow=0, pool_timeout=statement_timeout_ms / 1000
            )
            self.reader = create_async_engine(self.url, pool_size=4, max_overflow=4)
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
            self.reader = self.writer

    async def dispose(self) -> None:
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()

    @asynccontextmanager
    async def _transaction(self, engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
        try:
            async with engine.connect() as conn, conn.begin():
                yield conn
        except RiskgateError:
            raise
        except exc.DBAPIError as error:
            if _sqlstate(error) in RETRYABLE_SQLSTATES:
                raise RetryTransaction from error
            if _is_unavailable(error):
                log.warning("database unavailable: %s", type(error).__name__)
                raise RiskUnavailable("the risk store is unavailable; nothing was done") from error
            raise
        except (exc.TimeoutError, OSError, TimeoutError) as error:
            log.warning("database unavailable: %s", type(error).__name__)
            raise RiskUnavailable("the risk store is unavailable; nothing was done") from error

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only unit of work (no retries: reads do not conflict)."""
        try:
            async with self._transaction(self.reader) as conn:
                yield conn
        except RetryTransaction as error:
            raise RiskUnavailable("the risk store is busy; try again") from error

    async def write(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run `work` in one write transaction, retrying serialization failures a few times."""
        for attempt in range(WRITE_ATTEMPTS):
            try:
                async with self._transaction(self.writer) as conn:
                    return await work(conn)
            except RetryTransaction:
                await asyncio.sleep(0.002 * (2**attempt))
        raise RiskUnavailable("the risk store stayed contended; nothing was done")
