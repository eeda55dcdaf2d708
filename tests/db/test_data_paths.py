"""The two data-access paths agree: what one writes, the other reads back exactly.

Decimals keep every digit and timestamps come back as the same instant in UTC, whether a
row was written by a Core statement or a driver-level one, and read by either. A
driver-level statement outside an open transaction fails loudly, and one issued first in
a unit of work is inside its transaction (it rolls back with it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from db import catalog, jobqueries, reservations
from db.engine import Database
from db.lean import Lean, OutsideTransaction
from db.reservations import INSERT_RESERVATION, reservation_args
from db.rows import RESERVATION
from db.tables import reservations as reservations_table
from domain.exposure import Reservation
from domain.instruments import Instrument
from domain.values import Direction

TINY = Decimal("0.000000000000000001")
WIDE = Decimal("123456789012345678.123456789")
# Not UTC, with microseconds: must come back as the same instant, in UTC.
AT = datetime(2026, 3, 2, 23, 59, 58, 123456, tzinfo=timezone(timedelta(hours=-5)))


@pytest.fixture
async def db(clean_database: str) -> AsyncIterator[Database]:
    database = Database(clean_database)
    try:
        yield database
    finally:
        await database.dispose()


def held(signal_id: str) -> Reservation:
    return Reservation(signal_id, "alice", "XAUUSD", Direction.SELL, WIDE, TINY, AT)


def same_reservation(found: Reservation | None, signal_id: str) -> None:
    assert found is not None
    assert found == held(signal_id)
    assert found.expires_at.tzinfo is not None
    assert found.expires_at.utcoffset() == timedelta(0)
    assert found.expires_at == AT.astimezone(UTC)


async def test_core_writes_read_exactly_by_both_paths(db: Database) -> None:
    instrument = Instrument("ZZTEST", "exotic", WIDE, TINY, Decimal("0.01"), TINY, WIDE, WIDE)

    async def write(conn: AsyncConnection) -> None:
        await catalog.save_instrument(conn, instrument, at=AT)
        await catalog.save_marks(conn, [("ZZTEST", WIDE, TINY)], at=AT)
        await conn.execute(reservations_table.insert().values(**reservation_row("core")))

    await db.write(write)

    lean_instrument = await db.read(lambda conn: catalog.get_instrument(conn, "ZZTEST"))
    core_catalog = await db.read(catalog.load_catalog)
    assert lean_instrument == core_catalog["ZZTEST"] == instrument
    assert lean_instrument is not None and str(lean_instrument.contract_size) == str(WIDE)

    same_reservation(await db.read(lambda conn: reservations.get(conn, "core")), "core")
    by_client = await db.read(lambda conn: jobqueries.active_reservations_by_client(conn, AT))
    assert by_client == {}  # expires exactly at AT: no longer live
    earlier = AT - timedelta(microseconds=1)
    live = await db.read(lambda conn: jobqueries.active_reservations_by_client(conn, earlier))
    same_reservation(live["alice"][0], "core")


def reservation_row(signal_id: str) -> dict[str, object]:
    return dict(zip(RESERVATION.names, reservation_args(held(signal_id)), strict=True))


async def test_driver_writes_read_exactly_by_both_paths(db: Database) -> None:
    async def write(conn: AsyncConnection) -> None:
        await (await Lean.of(conn)).run(INSERT_RESERVATION, *reservation_args(held("lean")))

    await db.write(write)

    same_reservation(await db.read(lambda conn: reservations.get(conn, "lean")), "lean")

    async def core_read(conn: AsyncConnection) -> Reservation:
        stmt = select(*RESERVATION.columns()).where(reservations_table.c.signal_id == "lean")
        return RESERVATION.decode((await conn.execute(stmt)).one())

    same_reservation(await db.read(core_read), "lean")


async def test_a_driver_write_issued_first_is_inside_the_transaction(db: Database) -> None:
    class Undo(Exception):
        pass

    async def write_then_fail(conn: AsyncConnection) -> None:
        await (await Lean.of(conn)).run(INSERT_RESERVATION, *reservation_args(held("first")))
        raise Undo

    with pytest.raises(Undo):
        await db.write(write_then_fail)
    assert await db.read(lambda conn: reservations.get(conn, "first")) is None


async def test_a_driver_statement_outside_a_transaction_fails_loudly(db: Database) -> None:
    async with db.writer.connect() as conn:
        with pytest.raises(OutsideTransaction):
            await reservations.get(conn, "none")


async def test_a_read_only_unit_does_not_write(db: Database) -> None:
    async def write(lean: Lean) -> None:
        await lean.run(INSERT_RESERVATION, *reservation_args(held("read-only")))

    with pytest.raises(OutsideTransaction):
        await db.read_direct(write)
    assert await db.read(lambda conn: reservations.get(conn, "read-only")) is None


async def test_a_driver_batch_outside_a_transaction_fails_loudly(db: Database) -> None:
    async with db.writer.connect() as conn:
        async with conn.begin():
            lean = await Lean.of(conn)
        with pytest.raises(OutsideTransaction):
            await lean.many(INSERT_RESERVATION, [reservation_args(held("batch"))])
    assert await db.read(lambda conn: reservations.get(conn, "batch")) is None
