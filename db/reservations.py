"""Reservations: capacity held for approved signals until consumed, released or expired.

`reservation_totals` always equals the sums over every row of `reservations`, expired or
not; an expired row stops counting because readers subtract it, and writers sweep it out.
So a platform-wide read costs a row per instrument plus the few rows expired since the last
write, never a scan of everything reserved.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.tables import reservation_totals, reservations
from db.upsert import upsert
from domain.exposure import Reservation
from domain.numbers import ZERO
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


@dataclass
class PlatformReservations:
    """Live (unexpired) reservations across the platform."""

    count: int = 0
    notional: Decimal = ZERO
    volume_by_symbol: dict[str, Decimal] = field(default_factory=dict)


async def active_for_client(
    conn: AsyncConnection, client_id: str, now: datetime
) -> list[Reservation]:
    """Unexpired reservations of one client (bounded by its position limit)."""
    stmt = select(*_COLUMNS).where(
        reservations.c.client_id == client_id, reservations.c.expires_at > now
    )
    return [_reservation(row) for row in await conn.execute(stmt)]


async def _expired(conn: AsyncConnection, now: datetime) -> list[Reservation]:
    stmt = select(*_COLUMNS).where(reservations.c.expires_at <= now)
    return [_reservation(row) for row in await conn.execute(stmt)]


async def platform_active(conn: AsyncConnection, now: datetime) -> PlatformReservations:
    """Totals per instrument less what has expired and not yet been swept."""
    live = PlatformReservations()
    rows = await conn.execute(
        select(
            reservation_totals.c.symbol,
            reservation_totals.c.count,
            reservation_totals.c.volume,
            reservation_totals.c.notional,
        ).where(reservation_totals.c.count > 0)
    )
    for symbol, count, volume, notional in rows:
        live.count += count
        live.notional += notional
        live.volume_by_symbol[symbol] = volume
    for gone in await _expired(conn, now):
        live.count -= 1
        live.notional -= gone.notional
        live.volume_by_symbol[gone.symbol] -= gone.volume
    return live


async def _adjust_totals(conn: AsyncConnection, changes: Iterable[tuple[Reservation, int]]) -> None:
    """Apply (+1 / -1) reservation changes to the per-instrument totals."""
    delta: dict[str, list[Any]] = defaultdict(lambda: [0, ZERO, ZERO])
    for held, sign in changes:
        d = delta[held.symbol]
        d[0] += sign
        d[1] += sign * held.volume
        d[2] += sign * held.notional
    if not delta:
        return
    stmt = select(
        reservation_totals.c.symbol,
        reservation_totals.c.count,
        reservation_totals.c.volume,
        reservation_totals.c.notional,
    ).where(reservation_totals.c.symbol.in_(list(delta)))
    current = {row[0]: row[1:] for row in await conn.execute(stmt)}
    values = []
    for symbol, (count, volume, notional) in delta.items():
        c0, v0, n0 = current.get(symbol, (0, ZERO, ZERO))
        total = max(c0 + count, 0)
        values.append(
            {
                "symbol": symbol,
                "count": total,
                "volume": max(v0 + volume, ZERO) if total else ZERO,
                "notional": max(n0 + notional, ZERO) if total else ZERO,
            }
        )
    await upsert(conn, reservation_totals, values, keys=["symbol"])


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
    await _adjust_totals(conn, [(reservation, 1)])


async def remove(conn: AsyncConnection, signal_id: str, now: datetime) -> bool:
    """Drop a reservation (consumed or released); True when a live one was held."""
    held = await get(conn, signal_id)
    if held is None:
        return False
    await conn.execute(delete(reservations).where(reservations.c.signal_id == signal_id))
    await _adjust_totals(conn, [(held, -1)])
    return held.expires_at > now


async def sweep_expired(conn: AsyncConnection, now: datetime) -> int:
    """Delete expired reservations and take them out of the totals (writers and the job)."""
    gone = await _expired(conn, now)
    if not gone:
        return 0
    await conn.execute(delete(reservations).where(reservations.c.expires_at <= now))
    await _adjust_totals(conn, [(r, -1) for r in gone])
    return len(gone)


# The purge job's name for the same operation.
purge_expired = sweep_expired
