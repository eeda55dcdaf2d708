"""History written straight into the database, set-based, with the running aggregates kept
consistent with the ledger rows (as the service itself would have left them).

Per client `{prefix}{n}`: one deposit; `closed` closed trades spread over the previous
`days` trading days (UTC), alternately +3.00 and -2.00 of broker-booked P&L; `open_positions`
(0 or 1) open BUY position of 0.01 lots entered at the instrument's benchmark mark, so its
unrealized P&L is 0 and equity = balance = peak.

Aggregates written: `accounts` (balance, peak, net flows, realized, open count),
`risk_profiles`, `client_positions`, `instrument_positions`, `client_daily_pnl`,
`platform_daily_pnl`. PostgreSQL builds every table with INSERT … SELECT over
generate_series and derives the aggregates from the rows with GROUP BY; SQLite (which has
no exact decimal in SQL) gets rows generated in Python, the aggregates summed exactly with
Decimal, all written with executemany in one transaction.

Several plans may be written into one database as long as no prefix starts another: row ids
carry the prefix and the platform-wide aggregates are added to, not replaced.
"""

from __future__ import annotations

import sqlite3
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from bench.workloads import MARKS

DEPOSIT = Decimal("100000.00")
WIN, LOSS = Decimal("3.00"), Decimal("-2.00")
VOLUME = Decimal("0.01")
FINGERPRINT = "bench-history"
BATCH = 50_000

# Client limits for seeded clients: the service's defaults with room for the load.
PROFILE_OVERRIDES: dict[str, Any] = {
    "max_open_positions": 1000,
    "max_correlation_exposure": Decimal("1.00"),
}


@dataclass(frozen=True, slots=True)
class HistoryPlan:
    clients: int
    closed: int  # closed trades per client
    open_positions: int  # 0 or 1 open position per client
    prefix: str = "h"
    days: int = 10

    @property
    def width(self) -> int:
        return max(5, len(str(self.clients - 1)))

    def client_id(self, n: int) -> str:
        return f"{self.prefix}{n:0{self.width}d}"

    @property
    def realized_per_client(self) -> Decimal:
        wins = (self.closed + 1) // 2
        return WIN * wins + LOSS * (self.closed - wins)

    @property
    def balance(self) -> Decimal:
        return DEPOSIT + self.realized_per_client


def _profile_values() -> dict[str, Any]:
    from domain.profile import DEFAULT_LIMITS

    return {**asdict(DEFAULT_LIMITS), **PROFILE_OVERRIDES}


def _required_columns(table_name: str) -> set[str]:
    """Columns a bulk insert must fill (NOT NULL, no default, not an autoincrement id)."""
    from db import tables

    table = getattr(tables, table_name)
    return {
        c.name
        for c in table.columns
        if not c.nullable
        and c.server_default is None
        and c.default is None
        and not (c.primary_key and c.autoincrement is True)
    }


def _covered(table_name: str, columns: list[str]) -> None:
    missing = _required_columns(table_name) - set(columns)
    if missing:
        raise RuntimeError(
            f"bulk history does not fill {table_name}.{sorted(missing)}: the schema changed, "
            "update bench/seed_bulk.py"
        )


@dataclass(frozen=True, slots=True)
class Clock:
    now: datetime
    midnight: datetime

    @classmethod
    def current(cls) -> Clock:
        now = datetime.now(UTC).replace(microsecond=0)
        return cls(now, now.replace(hour=0, minute=0, second=0))

    def closed_at(self, plan: HistoryPlan, j: int) -> datetime:
        """Trade j of a client closes on one of the previous `days` days, mid-day."""
        day_start = self.midnight - timedelta(days=1 + j % plan.days)
        return day_start + timedelta(hours=6, seconds=(j * 37) % 43_200)


COLUMNS: dict[str, list[str]] = {
    "risk_profiles": [
        "client_id",
        *_profile_values().keys(),
        "trading_mode",
        "created_at",
        "updated_at",
    ],
    "accounts": [
        "client_id",
        "balance",
        "peak_equity",
        "net_cash_flows",
        "realized_pnl",
        "open_positions",
        "last_activity_at",
        "updated_at",
    ],
    "cash_flows": ["flow_id", "client_id", "amount", "occurred_at", "recorded_at", "fingerprint"],
    "trades": [
        "trade_id",
        "client_id",
        "symbol",
        "direction",
        "volume",
        "entry_price",
        "opened_at",
        "open_fingerprint",
        "status",
        "exit_price",
        "closed_at",
        "realized_pnl",
        "close_fingerprint",
        "recorded_at",
    ],
    "client_positions": [
        "client_id",
        "symbol",
        "direction",
        "volume",
        "entry_value",
        "open_count",
    ],
    "instrument_positions": ["symbol", "direction", "volume", "entry_value", "open_count"],
    "client_daily_pnl": ["client_id", "trading_day", "realized"],
    "platform_daily_pnl": ["trading_day", "realized"],
}


def check_schema() -> None:
    """Fail early and clearly if the tables gained a column this seeder does not fill."""
    for table_name, columns in COLUMNS.items():
        _covered(table_name, columns)


# --------------------------------------------------------------------------- PostgreSQL


def _pg_params(values: Iterable[Any], first: int) -> list[str]:
    """Numbered parameters with explicit casts (INSERT … SELECT does not infer them)."""
    casts = {Decimal: "numeric", int: "integer", str: "text", type(None): "numeric"}
    return [f"${first + i}::{casts[type(v)]}" for i, v in enumerate(values)]


def _pg_array(values: list[str], cast: str) -> str:
    return "ARRAY[" + ",".join(f"'{v}'" for v in values) + f"]::{cast}[]"


async def seed_postgres(dsn: str, plan: HistoryPlan) -> dict[str, float]:
    """Seed with INSERT … SELECT generate_series; aggregates by GROUP BY from the rows."""
    check_schema()
    clock = Clock.current()
    symbols = _pg_array([s for s, _ in MARKS], "text")
    prices = _pg_array([p for _, p in MARKS], "numeric")
    n_sym = len(MARKS)
    cid = f"$1::text || lpad(c::text, {plan.width}, '0')"
    profile = _profile_values()
    timings: dict[str, float] = {}
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET synchronous_commit = off")
        async with conn.transaction():
            started = time.perf_counter()
            await conn.execute(
                f"INSERT INTO risk_profiles ({', '.join(COLUMNS['risk_profiles'])}) "
                f"SELECT {cid}, {', '.join(_pg_params(profile.values(), 4))},"
                " 'ACTIVE', $3::timestamptz, $3::timestamptz"
                " FROM generate_series(0, $2::integer - 1) c",
                plan.prefix,
                plan.clients,
                clock.now,
                *profile.values(),
            )
            await conn.execute(
                f"INSERT INTO accounts ({', '.join(COLUMNS['accounts'])}) "
                f"SELECT {cid}, $3::numeric, $3::numeric, $4::numeric, $5::numeric, $6::integer,"
                " $7::timestamptz, $7::timestamptz FROM generate_series(0, $2::integer - 1) c",
                plan.prefix,
                plan.clients,
                plan.balance,
                DEPOSIT,
                plan.realized_per_client,
                plan.open_positions,
                clock.now,
            )
            await conn.execute(
                f"INSERT INTO cash_flows ({', '.join(COLUMNS['cash_flows'])}) "
                f"SELECT 'hist-deposit-' || {cid}, {cid}, $3::numeric, $4::timestamptz,"
                " $4::timestamptz, $5::text"
                " FROM generate_series(0, $2::integer - 1) c",
                plan.prefix,
                plan.clients,
                DEPOSIT,
                clock.midnight - timedelta(days=plan.days + 1),
                FINGERPRINT,
            )
            timings["clients"] = time.perf_counter() - started
            started = time.perf_counter()
            if plan.closed:
                closed_at = (
                    "$4::timestamptz - make_interval(days => 1 + j % $5::integer)"
                    " + make_interval(hours => 6, secs => (j * 37) % 43200)"
                )
                await conn.execute(
                    f"INSERT INTO trades ({', '.join(COLUMNS['trades'])}) "
                    f"SELECT 'hc-' || $1::text || '-' || c || '-' || j, {cid},"
                    f" ({symbols})[1 + (c + j) % {n_sym}],"
                    " CASE WHEN j % 2 = 0 THEN 'BUY' ELSE 'SELL' END, $6::numeric,"
                    f" ({prices})[1 + (c + j) % {n_sym}], {closed_at} - interval '1 hour',"
                    f" $7::text, 'CLOSED', ({prices})[1 + (c + j) % {n_sym}], {closed_at},"
                    f" CASE WHEN j % 2 = 0 THEN $8::numeric ELSE $9::numeric END, $7::text,"
                    f" {closed_at}"
                    " FROM generate_series(0, $2::integer - 1) c"
                    " CROSS JOIN generate_series(0, $3::integer - 1) j",
                    plan.prefix,
                    plan.clients,
                    plan.closed,
                    clock.midnight,
                    plan.days,
                    VOLUME,
                    FINGERPRINT,
                    WIN,
                    LOSS,
                )
                timings["closed_trades"] = time.perf_counter() - started
                started = time.perf_counter()
                await conn.execute(
                    "INSERT INTO client_daily_pnl (client_id, trading_day, realized)"
                    " SELECT client_id, (closed_at AT TIME ZONE 'UTC')::date, sum(realized_pnl)"
                    " FROM trades WHERE status = 'CLOSED'"
                    " AND trade_id LIKE 'hc-' || $1::text || '-%'"
                    " GROUP BY 1, 2",
                    plan.prefix,
                )
                await conn.execute(
                    "INSERT INTO platform_daily_pnl (trading_day, realized)"
                    " SELECT trading_day, sum(realized) FROM client_daily_pnl"
                    " WHERE client_id LIKE $1::text || '%' GROUP BY 1"
                    " ON CONFLICT (trading_day) DO UPDATE"
                    " SET realized = platform_daily_pnl.realized + excluded.realized",
                    plan.prefix,
                )
                timings["daily_pnl"] = time.perf_counter() - started
                started = time.perf_counter()
            if plan.open_positions:
                await conn.execute(
                    f"INSERT INTO trades ({', '.join(COLUMNS['trades'])}) "
                    f"SELECT 'ho-' || $1::text || '-' || c, {cid}, ({symbols})[1 + c % {n_sym}],"
                    " 'BUY', $3::numeric,"
                    f" ({prices})[1 + c % {n_sym}], $4::timestamptz - interval '2 hours',"
                    " $5::text, 'OPEN', NULL, NULL, NULL, NULL, $4::timestamptz"
                    " FROM generate_series(0, $2::integer - 1) c",
                    plan.prefix,
                    plan.clients,
                    VOLUME,
                    clock.now,
                    FINGERPRINT,
                )
                await conn.execute(
                    f"INSERT INTO client_positions ({', '.join(COLUMNS['client_positions'])})"
                    " SELECT client_id, symbol, direction, sum(volume),"
                    " sum(volume * entry_price), count(*) FROM trades"
                    " WHERE status = 'OPEN' AND trade_id LIKE 'ho-' || $1::text || '-%'"
                    " GROUP BY 1, 2, 3",
                    plan.prefix,
                )
                await conn.execute(
                    "INSERT INTO instrument_positions"
                    f" ({', '.join(COLUMNS['instrument_positions'])})"
                    " SELECT symbol, direction, sum(volume), sum(entry_value), sum(open_count)"
                    " FROM client_positions WHERE client_id LIKE $1::text || '%' GROUP BY 1, 2"
                    " ON CONFLICT (symbol, direction) DO UPDATE SET"
                    " volume = instrument_positions.volume + excluded.volume,"
                    " entry_value = instrument_positions.entry_value + excluded.entry_value,"
                    " open_count = instrument_positions.open_count + excluded.open_count",
                    plan.prefix,
                )
                timings["open_positions"] = time.perf_counter() - started
        started = time.perf_counter()
        await conn.execute("ANALYZE")
        timings["analyze"] = time.perf_counter() - started
    finally:
        await conn.close()
    return timings


# --------------------------------------------------------------------------- SQLite


def decimal_text(value: Decimal) -> str:
    return format(value, "f")


def _sqlite_time(value: datetime) -> str:
    """SQLAlchemy's SQLite DateTime storage: naive UTC, microseconds always present."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _insert(conn: sqlite3.Connection, table: str, rows: Iterator[tuple[Any, ...]]) -> None:
    columns = COLUMNS[table]
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            conn.executemany(sql, batch)
            batch.clear()
    if batch:
        conn.executemany(sql, batch)


def seed_sqlite(path: Path, plan: HistoryPlan) -> dict[str, float]:
    """Rows generated in Python; aggregates summed with Decimal from the same rows."""
    check_schema()
    clock = Clock.current()
    now = _sqlite_time(clock.now)
    profile = [decimal_text(v) if isinstance(v, Decimal) else v for v in _profile_values().values()]
    prices = [Decimal(p) for _, p in MARKS]
    symbols = [s for s, _ in MARKS]
    n_sym = len(MARKS)
    ids = [plan.client_id(n) for n in range(plan.clients)]
    timings: dict[str, float] = {}
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("BEGIN IMMEDIATE")
        started = time.perf_counter()
        _insert(
            conn,
            "risk_profiles",
            ((cid, *profile, "ACTIVE", now, now) for cid in ids),
        )
        balance = decimal_text(plan.balance)
        _insert(
            conn,
            "accounts",
            (
                (
                    cid,
                    balance,
                    balance,
                    decimal_text(DEPOSIT),
                    decimal_text(plan.realized_per_client),
                    plan.open_positions,
                    now,
                    now,
                )
                for cid in ids
            ),
        )
        deposit_at = _sqlite_time(clock.midnight - timedelta(days=plan.days + 1))
        _insert(
            conn,
            "cash_flows",
            (
                (
                    f"hist-deposit-{cid}",
                    cid,
                    decimal_text(DEPOSIT),
                    deposit_at,
                    deposit_at,
                    FINGERPRINT,
                )
                for cid in ids
            ),
        )
        timings["clients"] = time.perf_counter() - started
        started = time.perf_counter()
        client_days: dict[tuple[str, date], Decimal] = defaultdict(Decimal)
        closes = [clock.closed_at(plan, j) for j in range(plan.closed)]
        close_texts = [_sqlite_time(t) for t in closes]
        open_texts = [_sqlite_time(t - timedelta(hours=1)) for t in closes]
        price_texts = [decimal_text(p) for p in prices]
        volume = decimal_text(VOLUME)
        pnl_texts = (decimal_text(WIN), decimal_text(LOSS))

        def closed_rows() -> Iterator[tuple[Any, ...]]:
            for c, cid in enumerate(ids):
                for j in range(plan.closed):
                    k = (c + j) % n_sym
                    pnl = WIN if j % 2 == 0 else LOSS
                    client_days[(cid, closes[j].date())] += pnl
                    yield (
                        f"hc-{plan.prefix}-{c}-{j}",
                        cid,
                        symbols[k],
                        "BUY" if j % 2 == 0 else "SELL",
                        volume,
                        price_texts[k],
                        open_texts[j],
                        FINGERPRINT,
                        "CLOSED",
                        price_texts[k],
                        close_texts[j],
                        pnl_texts[j % 2],
                        FINGERPRINT,
                        close_texts[j],
                    )

        _insert(conn, "trades", closed_rows())
        timings["closed_trades"] = time.perf_counter() - started
        started = time.perf_counter()
        platform_days: dict[date, Decimal] = defaultdict(Decimal)
        for (_, day), pnl in client_days.items():
            platform_days[day] += pnl
        _insert(
            conn,
            "client_daily_pnl",
            ((cid, day.isoformat(), decimal_text(pnl)) for (cid, day), pnl in client_days.items()),
        )
        for day, pnl in platform_days.items():
            row = conn.execute(
                "SELECT realized FROM platform_daily_pnl WHERE trading_day = ?", (day.isoformat(),)
            ).fetchone()
            if row is None:
                _insert(conn, "platform_daily_pnl", iter([(day.isoformat(), decimal_text(pnl))]))
            else:
                conn.execute(
                    "UPDATE platform_daily_pnl SET realized = ? WHERE trading_day = ?",
                    (decimal_text(Decimal(row[0]) + pnl), day.isoformat()),
                )
        timings["daily_pnl"] = time.perf_counter() - started
        started = time.perf_counter()
        if plan.open_positions:
            opened_at = _sqlite_time(clock.now - timedelta(hours=2))
            _insert(
                conn,
                "trades",
                (
                    (
                        f"ho-{plan.prefix}-{c}",
                        cid,
                        symbols[c % n_sym],
                        "BUY",
                        volume,
                        price_texts[c % n_sym],
                        opened_at,
                        FINGERPRINT,
                        "OPEN",
                        None,
                        None,
                        None,
                        None,
                        now,
                    )
                    for c, cid in enumerate(ids)
                ),
            )
            _insert(
                conn,
                "client_positions",
                (
                    (
                        cid,
                        symbols[c % n_sym],
                        "BUY",
                        volume,
                        decimal_text(VOLUME * prices[c % n_sym]),
                        1,
                    )
                    for c, cid in enumerate(ids)
                ),
            )
            _add_instrument_positions(conn, plan.clients, symbols, prices)
        timings["open_positions"] = time.perf_counter() - started
        conn.execute("COMMIT")
        started = time.perf_counter()
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        timings["analyze"] = time.perf_counter() - started
    finally:
        conn.close()
    return timings


def _add_instrument_positions(
    conn: sqlite3.Connection, clients: int, symbols: list[str], prices: list[Decimal]
) -> None:
    """One BUY position of VOLUME per client, on symbol index c % n: add the sums exactly."""
    n = len(symbols)
    for k, symbol in enumerate(symbols):
        count = clients // n + (1 if k < clients % n else 0)
        if count == 0:
            continue
        volume = VOLUME * count
        entry_value = VOLUME * prices[k] * count
        row = conn.execute(
            "SELECT volume, entry_value, open_count FROM instrument_positions"
            " WHERE symbol = ? AND direction = 'BUY'",
            (symbol,),
        ).fetchone()
        if row is None:
            _insert(
                conn,
                "instrument_positions",
                iter([(symbol, "BUY", decimal_text(volume), decimal_text(entry_value), count)]),
            )
        else:
            conn.execute(
                "UPDATE instrument_positions SET volume = ?, entry_value = ?, open_count = ?"
                " WHERE symbol = ? AND direction = 'BUY'",
                (
                    decimal_text(Decimal(row[0]) + volume),
                    decimal_text(Decimal(row[1]) + entry_value),
                    row[2] + count,
                    symbol,
                ),
            )
