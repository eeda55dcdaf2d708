"""Running position sums per client and per instrument, and realized P&L per trading day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.lean import Conn, Lean, Sql
from db.rows import ACCOUNT, BOOK, CLIENT_ID, HELD_BOOK, INSTRUMENT, REALIZED, Joined
from db.tables import (
    accounts,
    client_daily_pnl,
    client_positions,
    instrument_positions,
    instruments,
    platform_daily_pnl,
)
from db.upsert import upsert
from domain.equity import AccountState
from domain.instruments import Instrument
from domain.numbers import ZERO
from domain.positions import PositionBook
from domain.values import Direction

Books = tuple[list[PositionBook], dict[str, Instrument]]


# The FROM clauses of the open books, client's and platform's, each read as HELD_BOOK.
CLIENT_BOOKS_FROM = (
    " FROM client_positions p JOIN instruments i ON i.symbol = p.symbol"
    " WHERE p.client_id = ? AND p.open_count > 0"
)
PLATFORM_BOOKS_FROM = (
    " FROM instrument_positions p JOIN instruments i ON i.symbol = p.symbol WHERE p.open_count > 0"
)
_CLIENT_BOOKS = Sql(f"SELECT {HELD_BOOK.sql()}{CLIENT_BOOKS_FROM}")
_PLATFORM_BOOKS = Sql(f"SELECT {HELD_BOOK.sql()}{PLATFORM_BOOKS_FROM}")


async def _books(conn: Conn, sql: Sql, *args: Any) -> Books:
    books: list[PositionBook] = []
    catalog: dict[str, Instrument] = {}
    for row in await (await Lean.of(conn)).rows(sql, *args):
        held = HELD_BOOK.decode(row)
        catalog.setdefault(held["instrument"].symbol, held["instrument"])
        books.append(held["book"])
    return books, catalog


async def client_books(conn: Conn, client_id: str) -> Books:
    """The client's open books with the instruments they are on (marks included)."""
    return await _books(conn, _CLIENT_BOOKS, client_id)


async def platform_books(conn: Conn) -> Books:
    """Platform books: one row per instrument and direction, whatever the history size."""
    return await _books(conn, _PLATFORM_BOOKS)


async def get_client_book(
    conn: AsyncConnection, client_id: str, symbol: str, direction: Direction
) -> PositionBook:
    return await _get_book(
        conn,
        client_positions,
        symbol,
        direction,
        client_positions.c.client_id == client_id,
    )


async def get_platform_book(
    conn: AsyncConnection, symbol: str, direction: Direction
) -> PositionBook:
    return await _get_book(conn, instrument_positions, symbol, direction)


async def _get_book(
    conn: AsyncConnection, table: Table, symbol: str, direction: Direction, *where: Any
) -> PositionBook:
    stmt = select(*BOOK.columns(table)).where(
        table.c.symbol == symbol, table.c.direction == direction.value, *where
    )
    row = (await conn.execute(stmt)).first()
    return BOOK.decode(row) if row else PositionBook(symbol, direction)


def _book_values(book: PositionBook) -> dict[str, Any]:
    return {
        "symbol": book.symbol,
        "direction": book.direction.value,
        "volume": book.volume,
        "entry_value": book.entry_value,
        "open_count": book.count,
    }


async def save_client_book(conn: AsyncConnection, client_id: str, book: PositionBook) -> None:
    await upsert(
        conn,
        client_positions,
        {"client_id": client_id, **_book_values(book)},
        keys=["client_id", "symbol", "direction"],
    )


async def save_platform_book(conn: AsyncConnection, book: PositionBook) -> None:
    await upsert(conn, instrument_positions, _book_values(book), keys=["symbol", "direction"])


_CLIENT_REALIZED = Sql(
    f"SELECT {REALIZED.sql('r')} FROM client_daily_pnl r"
    " WHERE r.client_id = ? AND r.trading_day = ?"
)
_PLATFORM_REALIZED = Sql(
    f"SELECT {REALIZED.sql('r')} FROM platform_daily_pnl r WHERE r.trading_day = ?"
)


async def client_realized_on(conn: Conn, client_id: str, day: date) -> Decimal:
    row = await (await Lean.of(conn)).row(_CLIENT_REALIZED, client_id, day)
    return REALIZED.decode(row) if row else ZERO


async def platform_realized_on(conn: Conn, day: date) -> Decimal:
    row = await (await Lean.of(conn)).row(_PLATFORM_REALIZED, day)
    return REALIZED.decode(row) if row else ZERO


async def add_realized(conn: AsyncConnection, client_id: str, day: date, pnl: Decimal) -> None:
    """Book a close's P&L on its trading day, for the client and the platform."""
    client_total = await client_realized_on(conn, client_id, day) + pnl
    await upsert(
        conn,
        client_daily_pnl,
        {"client_id": client_id, "trading_day": day, "realized": client_total},
        keys=["client_id", "trading_day"],
    )
    platform_total = await platform_realized_on(conn, day) + pnl
    await upsert(
        conn,
        platform_daily_pnl,
        {"trading_day": day, "realized": platform_total},
        keys=["trading_day"],
    )


async def books_of_clients_holding(
    conn: AsyncConnection, symbols: list[str]
) -> list[tuple[str, AccountState, PositionBook, Instrument]]:
    """Every open book of every client holding one of `symbols`, with account and instrument."""
    holders = (
        select(client_positions.c.client_id)
        .where(client_positions.c.symbol.in_(symbols), client_positions.c.open_count > 0)
        .distinct()
    )
    stmt = (
        select(*_HOLDER.columns())
        .join_from(client_positions, instruments, client_positions.c.symbol == instruments.c.symbol)
        .join(accounts, accounts.c.client_id == client_positions.c.client_id)
        .where(client_positions.c.open_count > 0, client_positions.c.client_id.in_(holders))
    )
    out = []
    for row in await conn.execute(stmt):
        found = _HOLDER.decode(row)
        out.append((found["client"], found["account"], found["book"], found["instrument"]))
    return out


# A book of a client, with the client's account and the instrument.
_HOLDER = Joined(
    instrument=("i", INSTRUMENT), book=("p", BOOK), client=("a", CLIENT_ID), account=("a", ACCOUNT)
)
