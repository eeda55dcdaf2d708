"""Driver-level ("lean") statements for the hot paths.

SQLAlchemy Core costs ~0.2 ms a statement here against ~0.03 ms for the driver itself, and
a risk check needs a dozen statements. Hot statements are therefore written once as SQL with
`?` placeholders, rewritten to `$n` for asyncpg, and run on the driver connection of a unit
of work (`Database.read` / `Database.write`), inside the transaction SQLAlchemy opened for
it. Parameters cross with the same encoding the column types use (`db.types`): exact
decimal text and naive-UTC timestamps on SQLite, NUMERIC and timestamptz on PostgreSQL;
rows are decoded by name through their shape (`db.rows`). Failures mean what they mean on
the Core path (`db.failures`).

The rule of the package (which statements take which path) is in `db/__init__.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
import weakref
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeAlias, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from db.failures import DRIVER_ERRORS, classify
from domain.errors import RiskUnavailable

_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"
T = TypeVar("T")


class OutsideTransaction(RuntimeError):
    """A driver-level statement was issued outside an open transaction: a programming error
    (on PostgreSQL it would have run, and committed, on its own)."""


class Sql:
    """One statement, in the placeholder style of each driver."""

    __slots__ = ("pg", "sqlite")

    def __init__(self, text: str) -> None:
        self.sqlite = " ".join(text.split())
        counter = iter(range(1, 1000))
        self.pg = re.sub(r"\?", lambda _m: f"${next(counter)}", self.sqlite)


_BY_CONNECTION: weakref.WeakKeyDictionary[AsyncConnection, Lean] = weakref.WeakKeyDictionary()
# What the hot-path queries take: a unit of work's connection, or its driver directly.
Conn: TypeAlias = "AsyncConnection | Lean"


class Lean:
    """Statements on the driver connection of an open SQLAlchemy connection."""

    __slots__ = ("_conn", "_driver", "is_pg", "read_only")

    def __init__(
        self, conn: AsyncConnection | None, driver: Any, *, is_pg: bool, read_only: bool = False
    ) -> None:
        # Weak: the per-connection cache is keyed weakly by `conn`; a strong reference
        # here would keep every connection object alive.
        self._conn = weakref.ref(conn) if conn is not None else _no_connection
        self._driver = driver
        self.is_pg = is_pg
        self.read_only = read_only

    @classmethod
    async def of(cls, conn: Conn, *, read_only: bool = False) -> Lean:
        """The driver behind `conn`, whose transaction must be open (looked up once per
        connection use: it costs a hop).

        `read_only` (a unit of work that only reads): on PostgreSQL its statements then run
        without BEGIN and COMMIT, two round trips saved; each statement at READ COMMITTED
        sees its own snapshot either way. Writing through it fails.
        """
        if isinstance(conn, Lean):
            return conn
        found = _BY_CONNECTION.get(conn)
        if found is None:
            if not conn.in_transaction():
                raise OutsideTransaction("driver-level statements run inside a unit of work")
            raw = await conn.get_raw_connection()
            is_pg = conn.dialect.name == "postgresql"
            driver: Any = raw.driver_connection
            adapter: Any = raw.dbapi_connection
            if is_pg and not read_only and not driver.is_in_transaction():
                # SQLAlchemy sends BEGIN with its own first statement; send it now, through
                # SQLAlchemy's adapter (which then commits or rolls it back as its own), so
                # that a driver-level statement issued first is inside the transaction too.
                await adapter._start_transaction()
            found = cls(conn, driver, is_pg=is_pg, read_only=read_only)
            _BY_CONNECTION[conn] = found
        return found

    def _require_transaction(self, *, writes: bool = False) -> None:
        if self.read_only:
            if writes:
                raise OutsideTransaction("a read-only unit of work does not write")
            return
        inside = self._driver.is_in_transaction() if self.is_pg else self._driver.in_transaction
        if not inside:
            raise OutsideTransaction("a driver-level statement outside an open transaction")

    async def _failed(self, error: BaseException) -> BaseException:
        """Map a driver error; a connection that failed is dropped, never pooled again."""
        mapped = classify(error) or error
        conn = self._conn()
        if isinstance(mapped, RiskUnavailable) and conn is not None:
            with contextlib.suppress(Exception):
                await conn.invalidate()
        return mapped

    def _abandon(self) -> None:
        # Cancelled mid-statement (units of work shield their statements, so only at
        # shutdown), an asyncpg connection is left busy: close it at once (this cannot
        # await); the pool's checkout check then replaces it.
        if self.is_pg:
            self._driver.terminate()

    def _args(self, args: Sequence[Any]) -> tuple[Any, ...]:
        if self.is_pg:
            return tuple(args)
        out = []
        for arg in args:
            if isinstance(arg, Decimal):
                out.append(format(arg, "f"))
            elif isinstance(arg, datetime):
                out.append(arg.astimezone(UTC).strftime(_SQLITE_TIME))
            elif isinstance(arg, date):
                out.append(arg.isoformat())
            else:
                out.append(arg)
        return tuple(out)

    async def _call(self, call: Callable[[], Awaitable[T]]) -> T:
        """A driver call, its failure mapped (`db.failures`)."""
        try:
            return await call()
        except asyncio.CancelledError:
            self._abandon()
            raise
        except DRIVER_ERRORS as error:
            raise await self._failed(error) from error

    async def rows(self, sql: Sql, *args: Any) -> list[Sequence[Any]]:
        self._require_transaction()
        if self.is_pg:
            return list(await self._call(lambda: self._driver.fetch(sql.pg, *args)))
        return await self._call(lambda: self._sqlite_rows(sql, args))

    async def _sqlite_rows(self, sql: Sql, args: Sequence[Any]) -> list[Sequence[Any]]:
        cursor = await self._driver.execute(sql.sqlite, self._args(args))
        try:
            return list(await cursor.fetchall())
        finally:
            await cursor.close()

    async def row(self, sql: Sql, *args: Any) -> Sequence[Any] | None:
        found = await self.rows(sql, *args)
        return found[0] if found else None

    async def run(self, sql: Sql, *args: Any) -> None:
        self._require_transaction(writes=True)
        if self.is_pg:
            await self._call(lambda: self._driver.execute(sql.pg, *args))
        else:
            await self._call(lambda: self._sqlite_run(sql, args))

    async def _sqlite_run(self, sql: Sql, args: Sequence[Any]) -> None:
        await (await self._driver.execute(sql.sqlite, self._args(args))).close()

    async def many(self, sql: Sql, rows: Sequence[Sequence[Any]]) -> None:
        """One statement for many parameter rows (a batch's inserts), in one round trip."""
        self._require_transaction(writes=True)
        if not rows:
            return
        if self.is_pg:
            await self._call(lambda: self._driver.executemany(sql.pg, rows))
        else:
            sqlite_rows = [self._args(r) for r in rows]
            await self._call(lambda: self._driver.executemany(sql.sqlite, sqlite_rows))

    async def first(self, statement: str) -> None:
        """Run `statement` (PostgreSQL: a literal, without parameters) as the unit's first.
        A unit that has not sent its BEGIN yet sends both in one round trip."""
        self._require_transaction(writes=True)
        await self._call(lambda: self._driver.execute(statement))


class PgDirectLean(Lean):
    """A PostgreSQL unit of driver-level writes whose BEGIN is sent with its first
    statement (`first`: one round trip for both) or just before it."""

    __slots__ = ("begun",)

    def __init__(self, conn: AsyncConnection, driver: Any) -> None:
        super().__init__(conn, driver, is_pg=True)
        self.begun = False

    async def _begin(self) -> None:
        if not self.begun:
            await self._call(lambda: self._driver.execute("BEGIN"))
            self.begun = True

    async def rows(self, sql: Sql, *args: Any) -> list[Sequence[Any]]:
        await self._begin()
        return await super().rows(sql, *args)

    async def run(self, sql: Sql, *args: Any) -> None:
        await self._begin()
        await super().run(sql, *args)

    async def many(self, sql: Sql, rows: Sequence[Sequence[Any]]) -> None:
        await self._begin()
        await super().many(sql, rows)

    async def first(self, statement: str) -> None:
        if self.begun:
            await super().first(statement)
            return
        await self._call(lambda: self._driver.execute(f"BEGIN; {statement}"))
        self.begun = True


def _no_connection() -> None:
    return None


class DirectLean(Lean):
    """SQLite statements on the raw connection, run synchronously on its own thread.

    `rows`, `run` and `many` never suspend, so a unit of work made only of them runs whole within
    one hop to the connection's thread (`Database.read_direct` / `write_direct`): BEGIN,
    every statement, the rules in between and COMMIT, without a thread hop per statement.
    """

    __slots__ = ()

    def __init__(self, raw: sqlite3.Connection, *, read_only: bool) -> None:
        super().__init__(None, raw, is_pg=False, read_only=read_only)

    def _require_transaction(self, *, writes: bool = False) -> None:
        if writes and self.read_only:
            raise OutsideTransaction("a read-only unit of work does not write")
        if not self._driver.in_transaction:
            raise OutsideTransaction("a driver-level statement outside an open transaction")

    async def rows(self, sql: Sql, *args: Any) -> list[Sequence[Any]]:
        self._require_transaction()
        try:
            return list(self._driver.execute(sql.sqlite, self._args(args)).fetchall())
        except sqlite3.Error as error:
            raise (classify(error) or error) from error

    async def run(self, sql: Sql, *args: Any) -> None:
        self._require_transaction(writes=True)
        try:
            self._driver.execute(sql.sqlite, self._args(args)).close()
        except sqlite3.Error as error:
            raise (classify(error) or error) from error

    async def many(self, sql: Sql, rows: Sequence[Sequence[Any]]) -> None:
        self._require_transaction(writes=True)
        try:
            self._driver.executemany(sql.sqlite, [self._args(r) for r in rows]).close()
        except sqlite3.Error as error:
            raise (classify(error) or error) from error


def run_whole(coroutine: Any) -> Any:
    """Run a coroutine that never suspends (only DirectLean statements) to its end."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError("a direct unit of work awaited something other than its statements")
