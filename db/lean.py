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
import weakref
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from db.failures import DRIVER_ERRORS, classify
from domain.errors import RiskUnavailable

_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


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


class Lean:
    """Statements on the driver connection of an open SQLAlchemy connection."""

    __slots__ = ("_conn", "_driver", "is_pg")

    def __init__(self, conn: AsyncConnection, driver: Any, *, is_pg: bool) -> None:
        # Weak: the per-connection cache is keyed weakly by `conn`; a strong reference
        # here would keep every connection object alive.
        self._conn = weakref.ref(conn)
        self._driver = driver
        self.is_pg = is_pg

    @classmethod
    async def of(cls, conn: AsyncConnection) -> Lean:
        """The driver behind `conn`, whose transaction must be open (looked up once per
        connection use: it costs a hop)."""
        found = _BY_CONNECTION.get(conn)
        if found is None:
            if not conn.in_transaction():
                raise OutsideTransaction("driver-level statements run inside a unit of work")
            raw = await conn.get_raw_connection()
            is_pg = conn.dialect.name == "postgresql"
            driver = raw.driver_connection
            assert driver is not None and raw.dbapi_connection is not None, "a live connection"
            if is_pg and not driver.is_in_transaction():
                # SQLAlchemy sends BEGIN with its own first statement; send it now, through
                # SQLAlchemy's adapter (which then commits or rolls it back as its own), so
                # that a driver-level statement issued first is inside the transaction too.
                await raw.dbapi_connection._start_transaction()
            found = cls(conn, driver, is_pg=is_pg)
            _BY_CONNECTION[conn] = found
        return found

    def _require_transaction(self) -> None:
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

    async def rows(self, sql: Sql, *args: Any) -> list[Sequence[Any]]:
        self._require_transaction()
        try:
            if self.is_pg:
                return list(await self._driver.fetch(sql.pg, *args))
            cursor = await self._driver.execute(sql.sqlite, self._args(args))
            try:
                return list(await cursor.fetchall())
            finally:
                await cursor.close()
        except asyncio.CancelledError:
            self._abandon()
            raise
        except DRIVER_ERRORS as error:
            raise await self._failed(error) from error

    async def row(self, sql: Sql, *args: Any) -> Sequence[Any] | None:
        found = await self.rows(sql, *args)
        return found[0] if found else None

    async def run(self, sql: Sql, *args: Any) -> None:
        self._require_transaction()
        try:
            if self.is_pg:
                await self._driver.execute(sql.pg, *args)
            else:
                await (await self._driver.execute(sql.sqlite, self._args(args))).close()
        except asyncio.CancelledError:
            self._abandon()
            raise
        except DRIVER_ERRORS as error:
            raise await self._failed(error) from error

    async def many(self, sql: Sql, rows: Sequence[Sequence[Any]]) -> None:
        """One statement for many parameter rows (a batch's inserts), in one round trip."""
        self._require_transaction()
        if not rows:
            return
        try:
            if self.is_pg:
                await self._driver.executemany(sql.pg, rows)
            else:
                await self._driver.executemany(sql.sqlite, [self._args(r) for r in rows])
        except asyncio.CancelledError:
            self._abandon()
            raise
        except DRIVER_ERRORS as error:
            raise await self._failed(error) from error
