"""Reservations: capacity held for approved signals until consumed, released or expired.

`reservation_totals` always equals the sums over every row of `reservations`, expired or
not, and the platform row's `reserved_count` / `reserved_notional` equal the sums over
those totals; an expired row stops counting because readers subtract it, and writers sweep
it out.
So a platform-wide read costs a row per instrument plus the few rows expired since the last
write, never a scan of everything reserved. These run on the check's hot path, hence
driver-level statements (`db.lean`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from db.lean import Conn, Lean, Sql
from db.rows import RESERVATION, RESERVATION_TOTAL, ReservationTotal, typed_params
from db.tables import reservations
from domain.current import (
    PlatformReservations,
    Totals,
    live_reservations,
    stored_sums,
    totals_after,
)
from domain.exposure import Reservation

_COLUMNS = ", ".join(RESERVATION.names)
_SELECT = f"SELECT {RESERVATION.sql('r')} FROM reservations r"
_EXPIRED = Sql(f"{_SELECT} WHERE r.expires_at <= ?")
_GET = Sql(f"{_SELECT} WHERE r.signal_id = ?")
INSERT_RESERVATION = Sql(f"INSERT INTO reservations ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)")


def insert_reservation_from(source: str) -> str:
    """INSERT_RESERVATION (same parameters) storing a row only if `source` (a CTE) has one."""
    params = typed_params(reservations, RESERVATION.names)
    return f"INSERT INTO reservations ({_COLUMNS}) SELECT {params} FROM {source}"


_DELETE = Sql("DELETE FROM reservations WHERE signal_id = ?")
_DELETE_EXPIRED = Sql("DELETE FROM reservations WHERE expires_at <= ?")
_TOTALS = Sql(f"SELECT {RESERVATION_TOTAL.sql('t')} FROM reservation_totals t WHERE t.count > 0")
SAVE_TOTAL = Sql(
    f"INSERT INTO reservation_totals ({', '.join(RESERVATION_TOTAL.names)}) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (symbol) DO UPDATE SET count = excluded.count, volume = excluded.volume,"
    " notional = excluded.notional"
)
SAVE_SUMS = Sql("UPDATE platform_limits SET reserved_count = ?, reserved_notional = ? WHERE id = 1")


async def platform_active(conn: Conn, now: datetime) -> PlatformReservations:
    """Live reservations across the platform: a row per instrument plus the unswept expired."""
    lean = await Lean.of(conn)
    totals = totals_of(RESERVATION_TOTAL.decode(r) for r in await lean.rows(_TOTALS))
    expired = [RESERVATION.decode(r) for r in await lean.rows(_EXPIRED, now)]
    return live_reservations(totals, expired)


def totals_of(rows: Iterable[ReservationTotal]) -> Totals:
    return {symbol: (count, volume, notional) for symbol, count, volume, notional in rows}


async def _adjust_totals(
    lean: Lean, changes: Iterable[tuple[Reservation, int]], known: Totals | None = None
) -> None:
    """Apply (+1 / -1) reservation changes to the per-instrument totals and the platform
    row's sums (under the platform lock).

    `known` holds all the totals already read in this transaction (saves a read); it is
    updated in place.
    """
    if known is None:
        known = totals_of(RESERVATION_TOTAL.decode(r) for r in await lean.rows(_TOTALS))
    changed = totals_after(known, changes)
    await lean.many(SAVE_TOTAL, [(symbol, *total) for symbol, total in changed.items()])
    known.update(changed)
    await lean.run(SAVE_SUMS, *stored_sums(known))


async def get(conn: Conn, signal_id: str) -> Reservation | None:
    row = await (await Lean.of(conn)).row(_GET, signal_id)
    return RESERVATION.decode(row) if row else None


def reservation_args(held: Reservation) -> tuple[Any, ...]:
    """Parameters of INSERT_RESERVATION."""
    return (
        held.signal_id,
        held.client_id,
        held.symbol,
        held.direction.value,
        held.volume,
        held.notional,
        held.expires_at,
    )


async def remove(conn: Conn, signal_id: str, now: datetime) -> bool:
    """Drop a reservation (consumed or released); True when a live one was held."""
    lean = await Lean.of(conn)
    row = await lean.row(_GET, signal_id)
    if row is None:
        return False
    held = RESERVATION.decode(row)
    await lean.run(_DELETE, signal_id)
    await _adjust_totals(lean, [(held, -1)])
    return held.expires_at > now


async def sweep_expired(
    conn: Conn,
    now: datetime,
    *,
    expired: list[Reservation] | None = None,
    totals: Totals | None = None,
) -> int:
    """Delete expired reservations and take them out of the totals (writers and the job).

    A caller that already read the expired rows and the totals passes them in.
    """
    lean = await Lean.of(conn)
    if expired is None:
        expired = [RESERVATION.decode(r) for r in await lean.rows(_EXPIRED, now)]
    if not expired:
        return 0
    await lean.run(_DELETE_EXPIRED, now)
    await _adjust_totals(lean, [(r, -1) for r in expired], totals)
    return len(expired)
