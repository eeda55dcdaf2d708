"""Per-client rows: the risk profile and the account (running balance, peak, counts)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from db.lean import Lean, Sql, dec, opt_dec, ts
from db.protections import protection_sql, protection_values, protections_from_row
from db.tables import accounts, risk_profiles
from db.upsert import insert_ignore
from domain.equity import AccountState
from domain.numbers import ZERO
from domain.profile import DEFAULT_LIMITS, RiskLimits, RiskProfile
from domain.protections import Protections
from domain.values import TradingMode

LIMIT_COLUMNS = tuple(risk_profiles.c[name] for name in asdict(DEFAULT_LIMITS))
ACCOUNT_COLUMNS = (
    accounts.c.balance,
    accounts.c.peak_equity,
    accounts.c.net_cash_flows,
    accounts.c.realized_pnl,
)


def account_from_row(row: Sequence[Any]) -> AccountState:
    """Build from ACCOUNT_COLUMNS (or the same columns in SQL), in that order."""
    return AccountState(*(dec(v) for v in row[:4]))


def profile_from_lean(client_id: str, row: Sequence[Any]) -> RiskProfile:
    """Build from PROFILE_SQL (in that order) at the row's start."""
    limits = RiskLimits(
        max_drawdown_percent=dec(row[3]),
        max_daily_loss=opt_dec(row[4]),
        max_position_size=dec(row[5]),
        max_open_positions=int(row[6]),
        max_correlation_exposure=dec(row[7]),
        risk_per_trade_percent=dec(row[8]),
    )
    return RiskProfile(client_id, limits, TradingMode(row[1]), int(row[0]), ts(row[2]))


async def ensure_client(conn: AsyncConnection, client_id: str, *, at: datetime) -> None:
    """Get-or-create the profile and account rows; concurrent callers end with one of each."""
    await insert_ignore(
        conn,
        risk_profiles,
        {
            "client_id": client_id,
            **asdict(DEFAULT_LIMITS),
            "trading_mode": TradingMode.ACTIVE.value,
            "created_at": at,
            "updated_at": at,
        },
    )
    await insert_ignore(
        conn,
        accounts,
        {
            "client_id": client_id,
            "balance": ZERO,
            "peak_equity": ZERO,
            "net_cash_flows": ZERO,
            "realized_pnl": ZERO,
            "open_positions": 0,
            "last_activity_at": at,
            "updated_at": at,
        },
    )


# The profile's columns for driver-level queries, with risk_profiles aliased `p`.
PROFILE_SQL = "p.id, p.trading_mode, p.updated_at, " + ", ".join(
    f"p.{c.name}" for c in LIMIT_COLUMNS
)
_GET_PROFILE = Sql(
    f"SELECT {PROFILE_SQL}, {protection_sql('p')} FROM risk_profiles p WHERE p.client_id = ?"
)
_PROFILE_WIDTH = 3 + len(LIMIT_COLUMNS)


async def get_profile(conn: AsyncConnection, client_id: str) -> RiskProfile | None:
    """The profile with its protection settings."""
    row = await (await Lean.of(conn)).row(_GET_PROFILE, client_id)
    if not row:
        return None
    profile = profile_from_lean(client_id, row)
    return replace(profile, protections=protections_from_row(row[_PROFILE_WIDTH:]))


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
    stmt = select(*ACCOUNT_COLUMNS).where(accounts.c.client_id == client_id).with_for_update()
    row = (await conn.execute(stmt)).first()
    return account_from_row(row) if row else None


_GET_ACCOUNT = Sql(
    "SELECT balance, peak_equity, net_cash_flows, realized_pnl FROM accounts WHERE client_id = ?"
)


async def get_account(conn: AsyncConnection, client_id: str) -> AccountState | None:
    row = await (await Lean.of(conn)).row(_GET_ACCOUNT, client_id)
    return account_from_row(row) if row else None


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
