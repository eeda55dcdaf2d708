"""The single platform row: limits, trading mode and client ceilings."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from db.lean import Sql, dec, opt_dec, ts
from db.protections import PROTECTION_COLUMNS, protection_values, protections_from_row
from db.tables import platform_limits
from domain.limits import PlatformLimits
from domain.profile import ClientCeilings
from domain.values import TradingMode

PLATFORM_ROW = 1
_CEILINGS = tuple(name for name in asdict(ClientCeilings()) if name != "protections")
_COLUMNS = (
    platform_limits.c.max_total_exposure,
    platform_limits.c.max_open_positions,
    platform_limits.c.max_position_size,
    platform_limits.c.max_daily_loss,
    platform_limits.c.max_instrument_volume,
    platform_limits.c.trading_mode,
    platform_limits.c.updated_at,
    *(platform_limits.c[f"ceiling_{name}"] for name in _CEILINGS),
    *(platform_limits.c[f"ceiling_{name}"] for name in PROTECTION_COLUMNS),
)


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
    for name in _CEILINGS:
        values[f"ceiling_{name}"] = getattr(limits.client_ceilings, name)
    return values


_LIMIT_SQL = ", ".join(c.name for c in _COLUMNS)
_GET = Sql(f"SELECT {_LIMIT_SQL} FROM platform_limits WHERE id = 1")
_GET_FOR_UPDATE = Sql(f"SELECT {_LIMIT_SQL} FROM platform_limits WHERE id = 1 FOR UPDATE")


async def get_limits(
    conn: AsyncConnection, *, lock: bool = False
) -> tuple[PlatformLimits, datetime]:
    """The platform row; `lock` serializes every writer behind it (FOR UPDATE on PostgreSQL).

    It goes through SQLAlchemy, not the driver, because on PostgreSQL the first statement
    is what opens the transaction the driver-level statements then run in.
    """
    is_pg = conn.dialect.name == "postgresql"
    sql = (_GET_FOR_UPDATE if lock else _GET).pg if is_pg else _GET.sqlite
    row = (await conn.exec_driver_sql(sql)).one()
    ceilings = ClientCeilings(
        dec(row[7]),
        opt_dec(row[8]),
        dec(row[9]),
        int(row[10]),
        dec(row[11]),
        dec(row[12]),
        protections_from_row(row[13:]),
    )
    limits = PlatformLimits(
        dec(row[0]),
        int(row[1]),
        dec(row[2]),
        dec(row[3]),
        opt_dec(row[4]),
        TradingMode(row[5]),
        ceilings,
    )
    return limits, ts(row[6])


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
        .values(
            {
                **platform_row_values(limits, at=at),
                **protection_values(limits.client_ceilings.protections, prefix="ceiling_"),
            }
        )
    )
