"""Instruments and their latest marks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from db.lean import Conn, Lean, Sql
from db.rows import INSTRUMENT
from db.tables import instruments
from db.upsert import upsert
from domain.instruments import Instrument


async def load_catalog(conn: AsyncConnection) -> dict[str, Instrument]:
    rows = await conn.execute(select(*INSTRUMENT.columns()).order_by(instruments.c.symbol))
    return {found.symbol: found for found in map(INSTRUMENT.decode, rows)}


_GET_INSTRUMENT = Sql(f"SELECT {INSTRUMENT.sql('i')} FROM instruments i WHERE i.symbol = ?")


async def get_instrument(conn: Conn, symbol: str) -> Instrument | None:
    row = await (await Lean.of(conn)).row(_GET_INSTRUMENT, symbol)
    return INSTRUMENT.decode(row) if row else None


async def save_instrument(conn: AsyncConnection, instrument: Instrument, *, at: datetime) -> None:
    await upsert(
        conn,
        instruments,
        {
            "symbol": instrument.symbol,
            "correlation_group": instrument.correlation_group,
            "contract_size": instrument.contract_size,
            "quote_to_account_rate": instrument.quote_to_account_rate,
            "lot_step": instrument.lot_step,
            "min_volume": instrument.min_volume,
            "max_volume": instrument.max_volume,
            "updated_at": at,
        },
        keys=["symbol"],
    )


async def save_marks(
    conn: AsyncConnection,
    marks: Iterable[tuple[str, Decimal, Decimal | None]],
    *,
    at: datetime,
) -> None:
    """Set the latest price (and optionally the quote-to-account rate) per symbol."""
    for symbol, price, rate in marks:
        values: dict[str, object] = {"mark_price": price, "mark_updated_at": at}
        if rate is not None:
            values["quote_to_account_rate"] = rate
        await conn.execute(update(instruments).where(instruments.c.symbol == symbol).values(values))
