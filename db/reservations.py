"""Reservations: capacity held for approved signals until consumed, released or expired."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.tables import reservations
from domain.exposure import Reservation
from domain.values import Direction

_COLUMNS = (
    reservations.c.signal_id,
    reservations.c.client_id,
    reservations.c.symbol,
    reservations.c.direction,
    reservations.c.volume,
    reservations.c.notional,
    reservations.c.expires_at,
)


def _reservation(row: Any) -> Reservation:
    signal_id, client_id, symbol, direction, volume, notional, expires_at = row
    return Reservation(
        signal_id, client_id, symbol, Direction(direction), volume, notional, expires_at
    )


async def active_for_client(
    conn: AsyncConnection, client_id: str, now: datetime
) -> list[Reservation]:
    """Unexpired reservations of one client (an expired one simply stops counting)."""
    stmt = select(*_COLUMNS).where(
        reservations.c.client_id == client_id, reservations.c.expires_at > now
    )
    return [_reservation(row) for row in await conn.execute(stmt)]


async def active_all(conn: AsyncConnection, now: datetime) -> list[Reservation]:
    """Every unexpired reservation; bounded by the platform position cap, not by history."""
    stmt = select(*_COLUMNS).where(reservations.c.expires_at > now)
    return [_reservation(row) for row in await conn.execute(stmt)]


async def get(conn: AsyncConnection, signal_id: str) -> Reservation | None:
    stmt = select(*_COLUMNS).where(reservations.c.signal_id == signal_id)
    row = (await conn.execute(stmt)).first()
    return _reservation(row) if row else None


async def insert_reservation(conn: AsyncConnection, reservation: Reservation) -> None:
    await conn.execute(
        insert(reservations).values(
            signal_id=reservation.signal_id,
            client_id=reservation.client_id,
            symbol=reservation.symbol,
            direction=reservation.direction.value,
            volume=reservation.volume,
            notional=reservation.notional,
            expires_at=reservation.expires_at,
        )
    )


async def remove(conn: AsyncConnection, signal_id: str) -> bool:
    """Drop a reservation (consumed by its trade or released); True when one was held."""
    result = await conn.execute(delete(reservations).where(reservations.c.signal_id == signal_id))
    return bool(result.rowcount)


async def purge_expired(conn: AsyncConnection, now: datetime) -> int:
    result = await conn.execute(delete(reservations).where(reservations.c.expires_at <= now))
    return int(result.rowcount or 0)
