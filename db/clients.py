"""Per-client rows: the risk profile and the account (running balance, peak, counts)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from db.lean import Conn, Lean, Sql
from db.rows import ACCOUNT, PROFILE, protection_values
from db.tables import accounts, risk_profiles
from domain.equity import AccountState
from domain.numbers import ZERO
from domain.profile import DEFAULT_LIMITS, RiskLimits, RiskProfile
from domain.protections import Protections
from domain.values import TradingMode


def _insert_ignore(table: str, names: tuple[str, ...], key: str) -> Sql:
    marks = ", ".join("?" * len(names))
    return Sql(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks}) ON CONFLICT ({key}) DO NOTHING"
    )


_NEW_PROFILE = ("client_id", *asdict(DEFAULT_LIMITS), "trading_mode", "created_at", "updated_at")
_CREATE_PROFILE = _insert_ignore("risk_profiles", _NEW_PROFILE, "client_id")
_NEW_ACCOUNT = (
    "client_id",
    "balance",
    "peak_equity",
    "net_cash_flows",
    "realized_pnl",
    "open_positions",
    "last_activity_at",
    "updated_at",
)
_CREATE_ACCOUNT = _insert_ignore("accounts", _NEW_ACCOUNT, "client_id")


async def ensure_client(conn: Conn, client_id: str, *, at: datetime) -> None:
    """Get-or-create the profile and account rows; concurrent callers end with one of each.

    Driver level: a first check for a client creates them on the check's hot path."""
    lean = await Lean.of(conn)
    limits = asdict(DEFAULT_LIMITS).values()
    await lean.run(_CREATE_PROFILE, client_id, *limits, TradingMode.ACTIVE.value, at, at)
    await lean.run(_CREATE_ACCOUNT, client_id, ZERO, ZERO, ZERO, ZERO, 0, at, at)


_GET_PROFILE = Sql(f"SELECT {PROFILE.sql('p')} FROM risk_profiles p WHERE p.client_id = ?")


async def get_profile(conn: Conn, client_id: str) -> RiskProfile | None:
    """The profile with its protection settings."""
    row = await (await Lean.of(conn)).row(_GET_PROFILE, client_id)
    return PROFILE.decode(row) if row else None


async def save_protections(
    conn: AsyncConnection, client_id: str, protections: Protections, *, at: datetime
) -> None:
    await conn.execute(
        update(risk_profiles)
        .where(risk_profiles.c.client_id == client_id)
        .values(**protection_values(protections), updated_at=at)
    )


async def save_limits(
    conn: AsyncConnection, client_id: str, limits: RiskLimits, *, at: datetime
) -> None:
    await conn.execute(
        update(risk_profiles)
        .where(risk_profiles.c.client_id == client_id)
        .values(**asdict(limits), updated_at=at)
    )


async def save_trading_mode(
    conn: AsyncConnection, client_id: str, mode: TradingMode, *, at: datetime
) -> None:
    await conn.execute(
        update(risk_profiles)
        .where(risk_profiles.c.client_id == client_id)
        .values(trading_mode=mode.value, updated_at=at)
    )


async def lock_account(conn: AsyncConnection, client_id: str) -> AccountState | None:
    """Read the account for update (a row lock on PostgreSQL; SQLite's writer lock covers it)."""
    stmt = select(*ACCOUNT.columns()).where(accounts.c.client_id == client_id).with_for_update()
    row = (await conn.execute(stmt)).first()
    return ACCOUNT.decode(row) if row else None


async def save_account(
    conn: AsyncConnection,
    client_id: str,
    state: AccountState,
    *,
    at: datetime,
    open_positions_delta: int = 0,
) -> None:
    values: dict[str, Any] = {**asdict(state), "updated_at": at, "last_activity_at": at}
    if open_positions_delta:
        values["open_positions"] = accounts.c.open_positions + open_positions_delta
    await conn.execute(update(accounts).where(accounts.c.client_id == client_id).values(values))


async def save_peaks(conn: AsyncConnection, peaks: list[tuple[str, Decimal]]) -> None:
    """Batch-raise equity peaks (one executemany, however many clients)."""
    if not peaks:
        return
    stmt = (
        update(accounts)
        .where(accounts.c.client_id == bindparam("cid"))
        .values(peak_equity=bindparam("peak"))
    )
    await conn.execute(stmt, [{"cid": c, "peak": p} for c, p in peaks])
