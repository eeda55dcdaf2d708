"""Instruments and their latest marks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from db.lean import Lean, Sql, dec, opt_dec
from db.tables import instruments
from db.upsert import upsert
from domain.instruments import Instrument

INSTRUMENT_COLUMNS = (
    instruments.c.symbol,
    instruments.c.correlation_group,
    instruments.c.contract_size,
    instruments.c.quote_to_account_rate,
    instruments.c.lot_step,
    instruments.c.min_volume,
    instruments.c.max_volume,
    instruments.c.mark_price,
)


async def load_catalog(conn: AsyncConnection) -> dict[str, Instrument]:
    rows = await conn.execute(select(*INSTRUMENT_COLUMNS).order_by(instruments.c.symbol))
    return {row[0]: instrument_from_lean(row) for row in rows}


# The same columns for driver-level queries, with the instruments table aliased `i`.
INSTRUMENT_SQL = (
    "i.symbol, i.correlation_group, i.contract_size, i.quote_to_account_rate, i.lot_step,"
    " i.min_volume, i.max_volume, i.mark_price"
)
INSTRUMENT_WIDTH = 8
_GET_INSTRUMENT = Sql(f"SELECT {INSTRUMENT_SQL} FROM instruments i WHERE i.symbol = ?")


def instrument_from_lean(row: Sequence[Any]) -> Instrument:
    """Build from INSTRUMENT_SQL or INSTRUMENT_COLUMNS (same order) at the row's start."""
    return Instrument(
        row[0],
        row[1],
        dec(row[2]),
        dec(row[3]),
        dec(row[4]),
        dec(row[5]),
        dec(row[6]),
        opt_dec(row[7]),
    )


async def get_instrument(conn: AsyncConnection, symbol: str) -> Instrument | None:
    row = await (await Lean.of(conn)).row(_GET_INSTRUMENT, symbol)
    return instrument_from_lean(row) if row else None


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
