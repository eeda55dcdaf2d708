"""Does reading exposure stay flat as the trade history grows?

Starts a real server (`riskgate serve`) on loopback against a fresh database, measures the
`exposure` query for a client with a small history, then bulk-seeds a large history straight
into the tables (set-based: INSERT ... SELECT over a generated series, with every running
aggregate kept consistent) and measures again:

- "small": a client with a handful of trades, in an almost empty database;
- "large": a client with --closed closed trades (default 100,000) and the same open
  positions, among --others other clients with --others-trades closed trades each;
- "small, big db": the first client again, once the database holds the whole history.

Prints p50/p99 latency of each and the ratios to "small".

    .venv/bin/python scripts/exposure_scaling.py                    # SQLite
    .venv/bin/python scripts/exposure_scaling.py --backend postgres
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Integer, String, cast, func, insert, literal, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from db.migrations import upgrade_to_head  # noqa: E402
from db.tables import (  # noqa: E402
    accounts,
    cash_flows,
    client_daily_pnl,
    client_positions,
    instrument_positions,
    platform_daily_pnl,
    risk_profiles,
    trades,
)
from db.types import ExactDecimal, UTCDateTime  # noqa: E402
from db.upsert import upsert  # noqa: E402
from domain.profile import DEFAULT_LIMITS  # noqa: E402
from domain.values import Role  # noqa: E402
from riskgate.auth import mint_token  # noqa: E402
from riskgate.settings import Settings  # noqa: E402

SECRET = "exposure-scaling-secret-0123456789abcdef"
POSTGRES_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"

EXPOSURE = """
query Exposure($c: String) {
  exposure(clientId: $c) {
    clientId totalExposure byInstrument { instrument volume exposure }
    byDirection { direction exposure } openPositionsCount reservedPositionsCount
    equity currentDrawdownPercent dailyPnl
  }
}
"""
OPEN = """
mutation($t: TradeOpenedInput!) { recordTradeOpened(trade: $t) { status } }
"""
CLOSE = """
mutation($t: TradeClosedInput!) { recordTradeClosed(trade: $t) { status } }
"""
CASH = """
mutation($f: CashFlowInput!) { recordCashFlow(flow: $f) { balance } }
"""

# The open positions both measured clients hold: symbol, direction, volume, entry price.
OPEN_POSITIONS = [
    ("EURUSD", "BUY", Decimal("0.10"), Decimal("1.1000")),
    ("USDJPY", "SELL", Decimal("0.20"), Decimal("150.00")),
    ("XAUUSD", "BUY", Decimal("0.05"), Decimal("2300.50")),
]
DEPOSIT = Decimal(10_000)
FINGERPRINT = "0" * 32  # a stored payload identity; only compared when an event repeats


# -- the database ------------------------------------------------------------------------


async def create_database(backend: str, admin_url: str) -> tuple[str, Any]:
    """A fresh, migrated database; returns its URL and a cleanup coroutine factory."""
    if backend == "sqlite":
        directory = Path(tempfile.mkdtemp(prefix="exposure-scaling-"))
        url = f"sqlite+aiosqlite:///{directory / 'scaling.db'}"

        async def drop() -> None:
            await asyncio.to_thread(shutil.rmtree, directory)

    else:
        name = f"riskgate_scaling_{uuid.uuid4().hex[:8]}"
        admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await admin.dispose()
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)

        async def drop() -> None:
            engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
            async with engine.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await engine.dispose()

    await upgrade_to_head(url)
    return url, drop


# -- bulk seeding ------------------------------------------------------------------------


def series(count: int) -> Any:
    """A CTE of n = 0 .. count-1, portable to SQLite and PostgreSQL."""
    seq = select(literal(0, Integer).label("n")).cte("seq", recursive=True)
    return seq.union_all(select((seq.c.n + 1).label("n")).where(seq.c.n < count - 1))


@dataclass(frozen=True)
class Day:
    """One day of closed trades of a group of clients: all at the same time and P&L."""

    day: date
    pnl_per_trade: Decimal
    trades: int  # in total, spread evenly over the group's clients


async def insert_closed_trades(
    conn: AsyncConnection,
    *,
    prefix: str,
    client_prefix: str,
    clients: int,
    day: Day,
) -> None:
    """INSERT ... SELECT: `day.trades` closed trades, client = n mod `clients`."""
    seq = series(day.trades)
    closed_at = datetime.combine(day.day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    opened_at = closed_at - timedelta(hours=3)
    entry, volume = Decimal("1.1000"), Decimal("0.10")
    exit_price = entry + day.pnl_per_trade / (volume * 100_000)
    client = (
        literal(client_prefix, String) + cast(seq.c.n % clients, String)
        if clients > 1
        else literal(client_prefix, String)
    )
    rows = select(
        (literal(f"{prefix}-{day.day.isoformat()}-", String) + cast(seq.c.n, String)).label("t"),
        client.label("c"),
        literal("EURUSD", String),
        literal("BUY", String),
        literal(volume, ExactDecimal()),
        literal(entry, ExactDecimal()),
        literal(opened_at, UTCDateTime()),
        literal(FINGERPRINT, String),
        literal("CLOSED", String),
        literal(exit_price, ExactDecimal()),
        literal(closed_at, UTCDateTime()),
        literal(day.pnl_per_trade, ExactDecimal()),
        literal(FINGERPRINT, String),
        literal(closed_at, UTCDateTime()),
    )
    columns = [
        trades.c.trade_id,
        trades.c.client_id,
        trades.c.symbol,
        trades.c.direction,
        trades.c.volume,
        trades.c.entry_price,
        trades.c.opened_at,
        trades.c.open_fingerprint,
        trades.c.status,
        trades.c.exit_price,
        trades.c.closed_at,
        trades.c.realized_pnl,
        trades.c.close_fingerprint,
        trades.c.recorded_at,
    ]
    await conn.execute(insert(trades).from_select(columns, rows))


def history_days(count: int, per_day: int, today: date, pattern: list[str]) -> list[Day]:
    """`count` trades over past days, oldest first, P&L per trade cycling through `pattern`."""
    days = []
    remaining, offset = count, (count + per_day - 1) // per_day
    while remaining > 0:
        n = min(per_day, remaining)
        pnl = Decimal(pattern[offset % len(pattern)])
        days.append(Day(today - timedelta(days=offset), pnl, n))
        remaining -= n
        offset -= 1
    return days


@dataclass
class AccountPlan:
    balance: Decimal = Decimal(0)
    peak: Decimal = Decimal(0)
    realized: Decimal = Decimal(0)
    net_cash: Decimal = Decimal(0)

    def deposit(self, amount: Decimal) -> None:
        self.balance += amount
        self.net_cash += amount
        self.peak = max(self.peak + amount, Decimal(0), self.balance)

    def realize(self, pnl: Decimal) -> None:
        self.balance += pnl
        self.realized += pnl
        self.peak = max(self.peak, self.balance)


def replay(days: list[Day], clients: int) -> tuple[AccountPlan, dict[date, Decimal]]:
    """Each client's account after its deposit and closes in event order (all clients of a
    group are alike), and each client's realized P&L per day."""
    plan = AccountPlan()
    plan.deposit(DEPOSIT)
    per_day: dict[date, Decimal] = {}
    for day in days:
        count = day.trades // clients
        for _ in range(count):  # peak follows every event, not only day ends
            plan.realize(day.pnl_per_trade)
        per_day[day.day] = day.pnl_per_trade * count
    return plan, per_day


def chunks(rows: list[dict[str, Any]], size: int = 5000) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


async def seed_large_history(
    url: str, *, closed: int, others: int, others_trades: int, today: date
) -> tuple[float, int, AccountPlan]:
    """The large client and the other clients, with their aggregates.

    Returns the seconds taken, the trades now stored and the large client's account.
    """
    started = time.perf_counter()
    now = datetime.now(UTC)
    large_days = history_days(closed, 2000, today, ["1.50", "-1.00", "0.75", "-2.25"])
    groups: list[tuple[str, int, list[Day]]] = [("large", 1, large_days)]
    large_plan = replay(large_days, 1)[0]
    if others:
        per_day = max(others, 10 * others)
        other_days = history_days(others * others_trades, per_day, today, ["2.00", "-1.50"])
        groups.append(("other-", others, other_days))

    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            platform_days: dict[date, Decimal] = defaultdict(Decimal)
            account_rows, profile_rows, flow_rows, daily_rows = [], [], [], []
            for client_prefix, clients, days in groups:
                for day in days:
                    await insert_closed_trades(
                        conn,
                        prefix=f"h-{client_prefix}",
                        client_prefix=client_prefix,
                        clients=clients,
                        day=day,
                    )
                plan, per_day = replay(days, clients)
                names = (
                    [client_prefix]
                    if clients == 1
                    else [f"{client_prefix}{i}" for i in range(clients)]
                )
                for name in names:
                    open_count = len(OPEN_POSITIONS) if name == "large" else 0
                    account_rows.append(
                        {
                            "client_id": name,
                            "balance": plan.balance,
                            "peak_equity": plan.peak,
                            "net_cash_flows": plan.net_cash,
                            "realized_pnl": plan.realized,
                            "open_positions": open_count,
                            "last_activity_at": now,
                            "updated_at": now,
                        }
                    )
                    profile_rows.append(
                        {
                            "client_id": name,
                            **asdict(DEFAULT_LIMITS),
                            "trading_mode": "ACTIVE",
                            "created_at": now,
                            "updated_at": now,
                        }
                    )
                    first_day = datetime.combine(days[0].day, datetime.min.time(), tzinfo=UTC)
                    flow_rows.append(
                        {
                            "flow_id": f"h-deposit-{name}",
                            "client_id": name,
                            "amount": DEPOSIT,
                            "occurred_at": first_day,
                            "recorded_at": first_day,
                            "fingerprint": FINGERPRINT,
                        }
                    )
                    for day, realized in per_day.items():
                        daily_rows.append(
                            {"client_id": name, "trading_day": day, "realized": realized}
                        )
                        platform_days[day] += realized
            for table, rows in (
                (accounts, account_rows),
                (risk_profiles, profile_rows),
                (cash_flows, flow_rows),
                (client_daily_pnl, daily_rows),
            ):
                for part in chunks(rows):
                    await conn.execute(insert(table), part)
            for part in chunks(
                [{"trading_day": d, "realized": v} for d, v in sorted(platform_days.items())]
            ):
                await add_platform_days(conn, part)
            await add_open_positions(conn, "large")
        async with engine.connect() as conn:
            total = (await conn.execute(select(func.count()).select_from(trades))).scalar_one()
    finally:
        await engine.dispose()
    return time.perf_counter() - started, int(total), large_plan


async def add_platform_days(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Add to the platform's realized P&L per day (a day may already have a row)."""
    days = [r["trading_day"] for r in rows]
    existing = dict(
        (
            await conn.execute(
                select(platform_daily_pnl.c.trading_day, platform_daily_pnl.c.realized).where(
                    platform_daily_pnl.c.trading_day.in_(days)
                )
            )
        ).all()
    )
    merged = [
        {"trading_day": d, "realized": existing.get(d, Decimal(0)) + r["realized"]}
        for r in rows
        for d in [r["trading_day"]]
    ]
    await upsert(conn, platform_daily_pnl, merged, keys=["trading_day"])


async def add_open_positions(conn: AsyncConnection, client_id: str) -> None:
    """The open trades of a client, its books and the platform books, in step."""
    now = datetime.now(UTC)
    for i, (symbol, direction, volume, price) in enumerate(OPEN_POSITIONS):
        await conn.execute(
            insert(trades).values(
                trade_id=f"h-open-{client_id}-{i}",
                client_id=client_id,
                symbol=symbol,
                direction=direction,
                volume=volume,
                entry_price=price,
                opened_at=now,
                open_fingerprint=FINGERPRINT,
                status="OPEN",
                recorded_at=now,
            )
        )
        await upsert(
            conn,
            client_positions,
            {
                "client_id": client_id,
                "symbol": symbol,
                "direction": direction,
                "volume": volume,
                "entry_value": volume * price,
                "open_count": 1,
            },
            keys=["client_id", "symbol", "direction"],
        )
        row = (
            await conn.execute(
                select(
                    instrument_positions.c.volume,
                    instrument_positions.c.entry_value,
                    instrument_positions.c.open_count,
                ).where(
                    instrument_positions.c.symbol == symbol,
                    instrument_positions.c.direction == direction,
                )
            )
        ).first()
        held = row or (Decimal(0), Decimal(0), 0)
        await upsert(
            conn,
            instrument_positions,
            {
                "symbol": symbol,
                "direction": direction,
                "volume": held[0] + volume,
                "entry_value": held[1] + volume * price,
                "open_count": held[2] + 1,
            },
            keys=["symbol", "direction"],
        )


async def checkpoint(url: str) -> None:
    """Fold the write-ahead log into the database file and empty it."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        await engine.dispose()


# -- the server and the measurement ------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "RISKGATE_DATABASE_URL": url,
        "RISKGATE_JWT_SECRET": SECRET,
        "RISKGATE_LOG_LEVEL": "warning",
        "RISKGATE_ENV": "development",
    }
    env.pop("RISKGATE_REDIS_URL", None)
    code = "import sys; from riskgate.cli import main; sys.exit(main(sys.argv[1:]))"
    argv = [sys.executable, "-c", code, "serve", "--no-migrate", "--port", str(port)]
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)  # logs: stderr


async def wait_ready(http: httpx.AsyncClient, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}")
        try:
            if (await http.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the server did not start within 30 s")


async def call(http: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Any:
    reply = await http.post("/graphql", json={"query": query, "variables": variables})
    body = reply.json()
    if reply.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"request failed: {reply.status_code} {body}")
    return body["data"]


async def seed_small_client(http: httpx.AsyncClient, client: str, closed: int) -> None:
    """Through the API: a deposit, the shared open positions, a few closed trades."""
    flow = {"flowId": f"deposit-{client}", "clientId": client, "amount": str(DEPOSIT)}
    await call(http, CASH, {"f": flow})
    for i, (symbol, direction, volume, price) in enumerate(OPEN_POSITIONS):
        trade = {
            "tradeId": f"{client}-open-{i}",
            "clientId": client,
            "instrument": symbol,
            "direction": direction,
            "volume": str(volume),
            "entryPrice": str(price),
        }
        await call(http, OPEN, {"t": trade})
    for i in range(closed):
        trade_id = f"{client}-closed-{i}"
        opened = {
            "tradeId": trade_id,
            "clientId": client,
            "instrument": "EURUSD",
            "direction": "BUY",
            "volume": "0.10",
            "entryPrice": "1.1000",
        }
        await call(http, OPEN, {"t": opened})
        closing = {"tradeId": trade_id, "clientId": client, "exitPrice": "1.1010"}
        await call(http, CLOSE, {"t": closing})


@dataclass(frozen=True)
class Latency:
    label: str
    samples: list[float]

    def quantile(self, q: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p99(self) -> float:
        return self.quantile(0.99)


async def measure(
    http: httpx.AsyncClient, cases: dict[str, str], requests: int, warmup: int, rounds: int = 5
) -> tuple[list[Latency], dict[str, Any]]:
    """Sequential requests per case (label -> client), interleaved in rounds so that drift
    in the machine's load touches every case alike."""
    views: dict[str, Any] = {}
    for label, client in cases.items():
        for _ in range(warmup):
            views[label] = await call(http, EXPOSURE, {"c": client})
    samples: dict[str, list[float]] = {label: [] for label in cases}
    per_round = max(1, requests // rounds)
    for _ in range(rounds):
        for label, client in cases.items():
            payload = {"query": EXPOSURE, "variables": {"c": client}}
            for _ in range(per_round):
                started = time.perf_counter()
                reply = await http.post("/graphql", json=payload)
                samples[label].append(time.perf_counter() - started)
                if reply.status_code != 200 or "errors" in reply.json():
                    raise RuntimeError(f"exposure failed: {reply.text[:300]}")
    return [Latency(label, samples[label]) for label in cases], views


def report(results: list[Latency], base: Latency) -> None:
    print(f"{'case':<34}{'p50 ms':>10}{'p99 ms':>10}{'p50 ratio':>12}{'p99 ratio':>12}")
    for r in results:
        print(
            f"{r.label:<34}{r.p50 * 1000:>10.3f}{r.p99 * 1000:>10.3f}"
            f"{r.p50 / base.p50:>12.2f}{r.p99 / base.p99:>12.2f}"
        )


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres-admin-url", default=POSTGRES_ADMIN_URL)
    parser.add_argument("--closed", type=int, default=100_000, help="closed trades, large client")
    parser.add_argument("--others", type=int, default=2_000, help="other clients")
    parser.add_argument("--others-trades", type=int, default=100, help="closed trades each")
    parser.add_argument("--small-closed", type=int, default=10)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument(
        "--checkpoint",
        action="store_true",
        help="SQLite: checkpoint and truncate the WAL after seeding (as a quiet period would)",
    )
    args = parser.parse_args()

    url, drop = await create_database(args.backend, args.postgres_admin_url)
    port = free_port()
    server = start_server(url, port)
    settings = Settings(_env_file=None, database_url=url, jwt_secret=SECRET)  # type: ignore[call-arg]
    token = mint_token(settings, sub="scaling", role=Role.SERVICE, ttl_seconds=3600)
    headers = {"authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers=headers, limits=limits, timeout=30
        ) as http:
            await wait_ready(http, server)
            await seed_small_client(http, "small", args.small_closed)
            (small,), views = await measure(
                http, {"small history": "small"}, args.requests, args.warmup
            )
            small_view = views["small history"]

            today = datetime.now(UTC).date()
            seconds, total, plan = await seed_large_history(
                url,
                closed=args.closed,
                others=args.others,
                others_trades=args.others_trades,
                today=today,
            )
            if args.checkpoint and args.backend == "sqlite":
                await checkpoint(url)
            print(
                f"backend {args.backend}: seeded {total:,} trades in {seconds:.1f} s "
                f"({args.closed:,} closed for the large client, {args.others:,} other clients "
                f"with {args.others_trades:,} closed each)"
            )
            label = f"large history ({args.closed:,} closed)"
            cases = {label: "large", "small history, large database": "small"}
            (large, again), views = await measure(http, cases, args.requests, args.warmup)
            large_view = views[label]
    finally:
        server.terminate()
        server.wait(timeout=10)
        await drop()

    # The seeded aggregates must read back as the history implies.
    expected = {
        "equity": plan.balance.quantize(Decimal("0.01")),
        "currentDrawdownPercent": ((plan.peak - plan.balance) / plan.peak * 100).quantize(
            Decimal("0.01")
        ),
    }
    for key, value in expected.items():
        if Decimal(large_view["exposure"][key]) != value:
            print(f"warning: large {key} is {large_view['exposure'][key]}, expected {value}")
    # Both clients hold the same open positions: the exposure figures must agree.
    for key in ("totalExposure", "byInstrument", "byDirection", "openPositionsCount"):
        if small_view["exposure"][key] != large_view["exposure"][key]:
            mine, theirs = small_view["exposure"][key], large_view["exposure"][key]
            print(f"warning: {key} differs: {mine} vs {theirs}")
    print(f"{args.requests} sequential requests per case after {args.warmup} warm-up requests")
    report([small, large, again], small)
    print(
        f"large / small in the same database: p50 {large.p50 / again.p50:.2f}, "
        f"p99 {large.p99 / again.p99:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
