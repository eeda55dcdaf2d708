"""Time the hourly snapshot job with 100,000 active clients on PostgreSQL.

Creates a scratch database, migrates it, seeds the clients set-based (INSERT ... SELECT over
generate_series: a profile, an account and two open positions each, marks on both
instruments, realized P&L today for a third of them), runs the job twice (the second run
must store nothing) and drops the database.

    python scripts/snapshot_job_scale.py [--clients 100000] [--postgres URL] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import time
import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from db.engine import Database
from db.migrations import upgrade_to_head
from domain.trading_day import TradingCalendar
from jobs.tasks import run_job
from resolvers.deps import Deps

DEFAULT_POSTGRES = os.environ.get(
    "RISKGATE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)

SEED = [
    """
    INSERT INTO risk_profiles (client_id, max_drawdown_percent, max_daily_loss,
        max_position_size, max_open_positions, max_correlation_exposure,
        risk_per_trade_percent, trading_mode, created_at, updated_at)
    SELECT 'client-' || g, 20, CASE WHEN g % 2 = 0 THEN 1000 END, 1, 5, 0.70, 2, 'ACTIVE',
        :now, :now
    FROM generate_series(1, :n) AS g
    """,
    """
    INSERT INTO accounts (client_id, balance, peak_equity, net_cash_flows, realized_pnl,
        open_positions, last_activity_at, updated_at)
    SELECT 'client-' || g, 10000 + g % 500, 10600, 10000, g % 500, 2,
        CAST(:now AS timestamptz) - interval '2 hours',
        CAST(:now AS timestamptz) - interval '2 hours'
    FROM generate_series(1, :n) AS g
    """,
    """
    INSERT INTO client_positions (client_id, symbol, direction, volume, entry_value, open_count)
    SELECT 'client-' || g, p.symbol, p.direction, p.volume, p.volume * p.price, 1
    FROM generate_series(1, :n) AS g
    CROSS JOIN (VALUES ('EURUSD', 'BUY', 0.10, 1.1000), ('XAUUSD', 'SELL', 0.01, 2000))
        AS p(symbol, direction, volume, price)
    """,
    """
    INSERT INTO instrument_positions (symbol, direction, volume, entry_value, open_count)
    SELECT symbol, direction, sum(volume), sum(entry_value), sum(open_count)
    FROM client_positions GROUP BY symbol, direction
    """,
    """
    INSERT INTO client_daily_pnl (client_id, trading_day, realized)
    SELECT 'client-' || g, CAST(:day AS date), -(g % 700)
    FROM generate_series(1, :n, 3) AS g
    """,
    "UPDATE instruments SET mark_price = 1.0950, mark_updated_at = :now WHERE symbol = 'EURUSD'",
    "UPDATE instruments SET mark_price = 2010, mark_updated_at = :now WHERE symbol = 'XAUUSD'",
    "ANALYZE",
]


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def main(clients: int, postgres: str, keep: bool) -> None:
    name = f"riskgate_scale_{uuid.uuid4().hex[:8]}"
    url = make_url(postgres).set(database=name).render_as_string(hide_password=False)
    await _admin(postgres, f'CREATE DATABASE "{name}"')
    try:
        await upgrade_to_head(url)
        now = datetime.now(UTC)
        calendar = TradingCalendar(ZoneInfo("UTC"))
        started = time.perf_counter()
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            for statement in SEED:
                params = {"n": clients, "now": now, "day": calendar.day_of(now)}
                await conn.execute(text(statement), params if ":" in statement else {})
        await engine.dispose()
        print(f"seeded {clients:,} clients in {time.perf_counter() - started:.1f} s")

        db = Database(url, statement_timeout_ms=120_000)
        try:
            deps = Deps(db=db, calendar=calendar)
            for attempt in ("first run", "second run"):
                started = time.perf_counter()
                result = await run_job("snapshots", deps)
                seconds = time.perf_counter() - started
                print(
                    f"snapshot job, {attempt}: {seconds:.1f} s "
                    f"({result['clients']:,} clients, {result['inserted']:,} inserted)"
                )
        finally:
            await db.dispose()
    finally:
        if keep:
            print(f"kept database {name}")
        else:
            await _admin(postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="an admin database URL")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(args.clients, args.postgres, args.keep))
