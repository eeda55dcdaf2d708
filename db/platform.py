"""The single platform row: limits, trading mode and client ceilings."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from db.tables import platform_limits
from domain.limits import PlatformLimits
from domain.profile import ClientCeilings
from domain.values import TradingMode

PLATFORM_ROW = 1
_CEILINGS = tuple(asdict(ClientCeilings()))
_COLUMNS = (
    platform_limits.c.max_total_exposure,
    platform_limits.c.max_open_positions,
    platform_limits.c.max_position_size,
    platform_limits.c.max_daily_loss,
    platform_limits.c.max_instrument_volume,
    platform_limits.c.trading_mode,
    platform_limits.c.updated_at,
    *(platform_limits.c[f"ceiling_{name}"] for name in _CEILINGS),
)


def _from_row(row: Row[Any]) -> tuple[PlatformLimits, datetime]:
    ceilings = ClientCeilings(*row[7:])
    limits = PlatformLimits(*row[:5], TradingMode(row[5]), ceilings)  # type: ignore[misc]
    return limits, row[6]


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
    for name, value in asdict(limits.client_ceilings).items():
        values[f"ceiling_{name}"] = value
    return values


async def get_limits(
    conn: AsyncConnection, *, lock: bool = False
) -> tuple[PlatformLimits, datetime]:
    """The platform row; `lock` serializes every writer behind it (FOR UPDATE on PostgreSQL)."""
    stmt = select(*_COLUMNS).where(platform_limits.c.id == PLATFORM_ROW)
    if lock:
        stmt = stmt.with_for_update()
    row = (await conn.execute(stmt)).one()
    return _from_row(row)


async def lock_platform(conn: AsyncConnection) -> None:
    """Take the platform writer lock without reading the limits."""
    stmt = (
        select(platform_limits.c.id).where(platform_limits.c.id == PLATFORM_ROW).with_for_update()
    )
    await conn.execute(stmt)


async def save_limits(conn: AsyncConnection, limits: PlatformLimits, *, at: datetime) -> None:
    await conn.execute(
        update(platform_limits)
        .where(platform_limits.c.id == PLATFORM_ROW)
        .values(platform_row_values(limits, at=at))
    )
