"""Set-based reads and writes for many clients at once: breaker evaluation, snapshots,
cleanups and the record of job runs. Nothing here issues one query per client."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, Table, and_, delete, exists, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from db.alerts import chunks
from db.catalog import INSTRUMENT_COLUMNS, instrument_from_lean
from db.clients import ACCOUNT_COLUMNS, LIMIT_COLUMNS, account_from_row
from db.tables import (
    accounts,
    client_daily_pnl,
    client_positions,
    client_weekly_pnl,
    exposure_snapshots,
    instruments,
    job_runs,
    reservations,
    risk_profiles,
)
from db.upsert import upsert
from domain.equity import AccountState
from domain.exposure import Reservation
from domain.instruments import Instrument
from domain.numbers import ZERO
from domain.positions import PositionBook
from domain.profile import DEFAULT_LIMITS, RiskLimits
from domain.values import Direction

# Which clients a load covers: every client (None), the named ones, or a subquery of ids.
ClientFilter = Sequence[str] | Select[Any] | None


@dataclass(slots=True)
class ClientRows:
    """What the rules need for each client, keyed by client id."""

    accounts: dict[str, AccountState] = field(default_factory=dict)
    limits: dict[str, RiskLimits] = field(default_factory=dict)
    realized_today: dict[str, Decimal] = field(default_factory=dict)
    # This week's realized P&L, weekly loss cap and stop-out setting (when a week is given).
    realized_week: dict[str, Decimal] = field(default_factory=dict)
    weekly_caps: dict[str, Decimal | None] = field(default_factory=dict)
    stop_out: dict[str, bool] = field(default_factory=dict)
    books: dict[str, list[PositionBook]] = field(default_factory=lambda: defaultdict(list))
    catalog: dict[str, Instrument] = field(default_factory=dict)


async def repeatable_read(conn: AsyncConnection) -> None:
    """Make a multi-query read see one snapshot (PostgreSQL; a SQLite read already does).

    Must run before the transaction's first query."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))


def _filtered(stmt: Select[Any], column: Any, clients: ClientFilter) -> list[Select[Any]]:
    if clients is None:
        return [stmt]
    if isinstance(clients, Select):
        return [stmt.where(column.in_(clients))]
    return [stmt.where(column.in_(part)) for part in chunks(sorted(set(clients)))]


async def load_clients(
    conn: AsyncConnection, clients: ClientFilter, day: date, week: date | None = None
) -> ClientRows:
    """Accounts, limits, today's realized P&L and open books of the chosen clients; with a
    `week`, also the week's realized P&L and the weekly-loss and stop-out settings.

    Two queries (per 1,000 named clients), whatever the number of clients."""
    out = ClientRows()
    guard_columns = (
        client_weekly_pnl.c.realized,
        risk_profiles.c.max_weekly_loss,
        risk_profiles.c.stop_out_on_breach,
    )
    account_stmt = (
        select(
            accounts.c.client_id,
            *ACCOUNT_COLUMNS,
            client_daily_pnl.c.realized,
            *LIMIT_COLUMNS,
            *guard_columns,
        )
        .select_from(accounts)
        .outerjoin(risk_profiles, risk_profiles.c.client_id == accounts.c.client_id)
        .outerjoin(
            client_daily_pnl,
            and_(
                client_daily_pnl.c.client_id == accounts.c.client_id,
                client_daily_pnl.c.trading_day == day,
            ),
        )
        .outerjoin(
            client_weekly_pnl,
            and_(
                client_weekly_pnl.c.client_id == accounts.c.client_id,
                client_weekly_pnl.c.trading_week == week,
            ),
        )
    )
    width = len(ACCOUNT_COLUMNS)
    limits_end = 2 + width + len(LIMIT_COLUMNS)
    for stmt in _filtered(account_stmt, accounts.c.client_id, clients):
        for row in await conn.execute(stmt):
            client_id = row[0]
            out.accounts[client_id] = account_from_row(row[1 : 1 + width])
            realized = row[1 + width]
            out.realized_today[client_id] = realized if realized is not None else ZERO
            limit_values = row[2 + width : limits_end]
            out.limits[client_id] = (
                RiskLimits(*limit_values) if limit_values[0] is not None else DEFAULT_LIMITS
            )
            if week is not None:
                week_realized, weekly_cap, stop_out = row[limits_end:]
                out.realized_week[client_id] = week_realized or ZERO
                out.weekly_caps[client_id] = weekly_cap
                out.stop_out[client_id] = bool(stop_out)
    book_stmt = (
        select(
            client_positions.c.client_id,
            client_positions.c.symbol,
            client_positions.c.direction,
            client_positions.c.volume,
            client_positions.c.entry_value,
            client_positions.c.open_count,
            *INSTRUMENT_COLUMNS,
        )
        .join_from(client_positions, instruments, client_positions.c.symbol == instruments.c.symbol)
        .where(client_positions.c.open_count > 0)
    )
    for stmt in _filtered(book_stmt, client_positions.c.client_id, clients):
        for row in await conn.execute(stmt):
            client_id, symbol, direction, volume, entry_value, count = row[:6]
            out.books[client_id].append(
                PositionBook(symbol, Direction(direction), volume, entry_value, count)
            )
            if symbol not in out.catalog:
                out.catalog[symbol] = instrument_from_lean(row[6:])
    return out


def _insert(conn: AsyncConnection, table: Table) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def holders_of(symbols: Sequence[str]) -> Select[Any]:
    """Ids of clients with an open position on one of `symbols`."""
    return (
        select(client_positions.c.client_id)
        .where(client_positions.c.symbol.in_(symbols), client_positions.c.open_count > 0)
        .distinct()
    )


def all_clients() -> Select[Any]:
    return select(accounts.c.client_id)


def snapshot_candidates(bucket: datetime) -> Select[Any]:
    """Clients due an hourly snapshot: open positions, or activity since their last snapshot;
    minus those that already have this hour's snapshot."""
    snap = exposure_snapshots.alias("snap")
    since_activity = exists().where(
        snap.c.client_id == accounts.c.client_id, snap.c.taken_at >= accounts.c.last_activity_at
    )
    this_hour = exists().where(
        snap.c.client_id == accounts.c.client_id, snap.c.hour_bucket == bucket
    )
    return select(accounts.c.client_id).where(
        or_(accounts.c.open_positions > 0, ~since_activity), ~this_hour
    )


async def insert_snapshots(conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert hourly snapshots; one already stored for a client's hour is left alone (so two
    runs, or two workers, store one). Returns how many were inserted."""
    inserted = 0
    for start in range(0, len(rows), 5000):
        stmt = _insert(conn, exposure_snapshots).on_conflict_do_nothing()
        result = await conn.execute(
            stmt.returning(exposure_snapshots.c.id), list(rows[start : start + 5000])
        )
        inserted += len(result.all())
    return inserted


async def delete_old_snapshots(conn: AsyncConnection, cutoff: datetime, *, batch: int) -> int:
    """Delete up to `batch` snapshots taken before `cutoff`, by id, without reading them."""
    ids = (
        select(exposure_snapshots.c.id)
        .where(exposure_snapshots.c.taken_at < cutoff)
        .limit(batch)
        .scalar_subquery()
    )
    result = await conn.execute(delete(exposure_snapshots).where(exposure_snapshots.c.id.in_(ids)))
    return int(result.rowcount or 0)


async def record_job_run(
    conn: AsyncConnection,
    name: str,
    *,
    started_at: datetime,
    finished_at: datetime,
    result: Mapping[str, Any],
) -> None:
    await upsert(
        conn,
        job_runs,
        {
            "name": name,
            "last_started_at": started_at,
            "last_finished_at": finished_at,
            "last_result": dict(result),
        },
        keys=["name"],
    )


async def get_job_run(conn: AsyncConnection, name: str) -> dict[str, Any] | None:
    row = (await conn.execute(select(job_runs).where(job_runs.c.name == name))).first()
    return dict(row._mapping) if row else None


async def active_reservations_by_client(
    conn: AsyncConnection, now: datetime
) -> dict[str, list[Reservation]]:
    """Every live reservation, grouped by client (bounded by the platform's position cap)."""
    stmt = select(
        reservations.c.signal_id,
        reservations.c.client_id,
        reservations.c.symbol,
        reservations.c.direction,
        reservations.c.volume,
        reservations.c.notional,
        reservations.c.expires_at,
    ).where(reservations.c.expires_at > now)
    out: dict[str, list[Reservation]] = defaultdict(list)
    for signal_id, client_id, symbol, direction, volume, notional, expires_at in await conn.execute(
        stmt
    ):
        out[client_id].append(
            Reservation(
                signal_id, client_id, symbol, Direction(direction), volume, notional, expires_at
            )
        )
    return out


def page_of(clients: Select[Any], after: str, size: int) -> Select[Any]:
    """Keyset page of a subquery of client ids: the next `size` ids after `after`."""
    inner = clients.subquery()
    return (
        select(inner.c.client_id)
        .where(inner.c.client_id > after)
        .order_by(inner.c.client_id)
        .limit(size)
    )
