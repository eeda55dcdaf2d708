"""The single platform row: limits, trading mode and client ceilings."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from db.lean import Conn, Lean, Sql
from db.rows import PLATFORM, protection_values
from db.tables import platform_limits
from domain.limits import PlatformLimits

PLATFORM_ROW = 1


def platform_row_values(limits: PlatformLimits, *, at: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {
        "max_total_exposure": limits.max_total_exposure,
        "max_open_positions": limits.max_open_positions,
        "max_position_size": limits.max_position_size,
        "max_daily_loss": limits.max_daily_loss,
        "max_instrument_volume": limits.max_instrument_volume,
        "trading_mode": limits.trading_mode.value,
        "updated_at": at,
    }
    ceilings = asdict(limits.client_ceilings)
    # Not the protection ceilings: the first migration seeds the row with these values,
    # before their columns exist (they start at their column defaults).
    ceilings.pop("protections")
    for name, value in ceilings.items():
        values[f"ceiling_{name}"] = value
    return values


_GET = Sql(f"SELECT {PLATFORM.sql('l')} FROM platform_limits l WHERE l.id = 1")
# Taking the platform lock bumps the writer sequence: a PostgreSQL check that read before
# and claims after sees it moved and decides again.
_BUMP = "UPDATE platform_limits AS l SET writer_seq = l.writer_seq + 1 WHERE l.id = 1"
_LOCK = Sql(_BUMP)
_GET_LOCKED = Sql(f"{_BUMP} RETURNING {PLATFORM.sql('l')}")


async def get_limits(conn: Conn, *, lock: bool = False) -> tuple[PlatformLimits, datetime]:
    """The platform row; `lock` serializes every writer behind it (a row lock held to the
    commit on PostgreSQL; SQLite's single writer is serialized already)."""
    lean = await Lean.of(conn)
    row = await lean.row(_GET_LOCKED if lock and lean.is_pg else _GET)
    assert row is not None, "the platform row is created by the first migration"
    return PLATFORM.decode(row)


async def lock(conn: Conn) -> None:
    """Take the platform writer lock (driver-level; nothing to do on SQLite's one writer)."""
    lean = await Lean.of(conn)
    if lean.is_pg:
        await lean.run(_LOCK)


async def lock_platform(conn: AsyncConnection) -> None:
    """Take the platform writer lock without reading the limits."""
    stmt = (
        update(platform_limits)
        .where(platform_limits.c.id == PLATFORM_ROW)
        .values(writer_seq=platform_limits.c.writer_seq + 1)
    )
    await conn.execute(stmt)


async def save_limits(conn: AsyncConnection, limits: PlatformLimits, *, at: datetime) -> None:
    await conn.execute(
        update(platform_limits)
        .where(platform_limits.c.id == PLATFORM_ROW)
        .values(
            {
                **platform_row_values(limits, at=at),
                **protection_values(limits.client_ceilings.protections, prefix="ceiling_"),
            }
        )
    )
