"""Set-based reads and writes for many clients at once: breaker evaluation, snapshots,
cleanups and the record of job runs. Nothing here issues one query per client."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, delete, exists, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from db.alerts import chunks
from db.rows import (
    ACCOUNT,
    BOOK,
    CLIENT_ID,
    INSTRUMENT,
    LIMITS,
    PROTECTIONS,
    REALIZED,
    RESERVATION,
    Joined,
)
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
from db.upsert import dialect_insert, upsert
from domain.equity import AccountState
from domain.exposure import Reservation
from domain.instruments import Instrument
from domain.numbers import ZERO
from domain.positions import PositionBook
from domain.profile import DEFAULT_LIMITS, RiskLimits
from domain.protections import DEFAULT_PROTECTIONS

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


# Per client: the account, today's realized P&L (None: nothing yet), the limits (None: no
# profile row yet, so the defaults); and each open book with its instrument.
_CLIENT_FACTS = Joined(
    client=("a", CLIENT_ID), account=("a", ACCOUNT), realized=("r", REALIZED), limits=("p", LIMITS)
)
# With a week: its realized P&L and the protection settings (None: no row, nothing set).
_WEEK_FACTS = Joined(week=("w", REALIZED), protections=("p", PROTECTIONS))
_CLIENT_BOOK = Joined(client=("p", CLIENT_ID), book=("p", BOOK), instrument=("i", INSTRUMENT))


async def load_clients(
    conn: AsyncConnection, clients: ClientFilter, day: date, week: date | None = None
) -> ClientRows:
    """Accounts, limits, today's realized P&L and open books of the chosen clients; with a
    `week`, also the week's realized P&L and the weekly-loss and stop-out settings.

    Two queries (per 1,000 named clients), whatever the number of clients."""
    out = ClientRows()
    columns = _CLIENT_FACTS.columns()
    if week is not None:
        columns += _WEEK_FACTS.columns(week=client_weekly_pnl)
    account_stmt = (
        select(*columns)
        .select_from(accounts)
        .outerjoin(risk_profiles, risk_profiles.c.client_id == accounts.c.client_id)
        .outerjoin(
            client_daily_pnl,
            and_(
                client_daily_pnl.c.client_id == accounts.c.client_id,
                client_daily_pnl.c.trading_day == day,
            ),
        )
    )
    if week is not None:
        account_stmt = account_stmt.outerjoin(
            client_weekly_pnl,
            and_(
                client_weekly_pnl.c.client_id == accounts.c.client_id,
                client_weekly_pnl.c.trading_week == week,
            ),
        )
    for stmt in _filtered(account_stmt, accounts.c.client_id, clients):
        for row in await conn.execute(stmt):
            facts = _CLIENT_FACTS.decode(row)
            client_id = facts["client"]
            out.accounts[client_id] = facts["account"]
            out.realized_today[client_id] = facts["realized"] or ZERO
            out.limits[client_id] = facts["limits"] or DEFAULT_LIMITS
            if week is not None:
                weekly = _WEEK_FACTS.decode(row, _CLIENT_FACTS.width)
                settings = weekly["protections"] or DEFAULT_PROTECTIONS
                out.realized_week[client_id] = weekly["week"] or ZERO
                out.weekly_caps[client_id] = settings.max_weekly_loss
                out.stop_out[client_id] = settings.stop_out_on_breach
    book_stmt = (
        select(*_CLIENT_BOOK.columns(client=client_positions))
        .join_from(client_positions, instruments, client_positions.c.symbol == instruments.c.symbol)
        .where(client_positions.c.open_count > 0)
    )
    for stmt in _filtered(book_stmt, client_positions.c.client_id, clients):
        for row in await conn.execute(stmt):
            found = _CLIENT_BOOK.decode(row)
            instrument = found["instrument"]
            out.books[found["client"]].append(found["book"])
            out.catalog.setdefault(instrument.symbol, instrument)
    return out


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
        stmt = dialect_insert(conn, exposure_snapshots).on_conflict_do_nothing()
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
    stmt = select(*RESERVATION.columns()).where(reservations.c.expires_at > now)
    out: dict[str, list[Reservation]] = defaultdict(list)
    for row in await conn.execute(stmt):
        held = RESERVATION.decode(row)
        out[held.client_id].append(held)
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
