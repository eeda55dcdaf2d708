"""Demo data for an empty database, pushed through the real use cases."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.tables import accounts
from domain.access import Caller
from domain.ledger import TradeClosed, TradeOpened
from domain.values import Direction, Role
from resolvers import ledger, marks, profiles
from resolvers.deps import Deps

SERVICE = Caller("demo-seeder", Role.SERVICE)


async def is_empty(deps: Deps) -> bool:
    async def count(conn: AsyncConnection) -> int:
        return (await conn.execute(select(func.count()).select_from(accounts))).scalar_one()

    return await deps.db.read(count) == 0


async def seed(deps: Deps) -> bool:
    """Seed three clients with deposits, open and closed trades and marks; False if not empty."""
    if not await is_empty(deps):
        return False
    now = deps.now()
    deposits = {"alice": "10000", "bob": "25000", "carol": "5000"}
    for client, amount in deposits.items():
        await ledger.record_cash_flow(
            deps,
            SERVICE,
            flow_id=f"demo-deposit-{client}",
            client_id=client,
            amount=Decimal(amount),
            occurred_at=now - timedelta(days=2),
        )
    await profiles.update_risk_profile(
        deps, SERVICE, "bob", {"max_daily_loss": Decimal("1000"), "max_open_positions": 8}
    )
    trades = [
        ("demo-t1", "alice", "EURUSD", Direction.BUY, "0.10", "1.0850"),
        ("demo-t2", "alice", "XAUUSD", Direction.SELL, "0.05", "2650.00"),
        ("demo-t3", "bob", "GBPUSD", Direction.BUY, "0.20", "1.2700"),
        ("demo-t4", "bob", "US500", Direction.BUY, "1.00", "5900"),
        ("demo-t5", "carol", "BTCUSD", Direction.BUY, "0.01", "95000"),
        ("demo-t6", "alice", "EURUSD", Direction.BUY, "0.10", "1.0800"),
        ("demo-t7", "bob", "USDJPY", Direction.SELL, "0.10", "151.20"),
    ]
    for trade_id, client, symbol, direction, volume, price in trades:
        await ledger.record_trade_opened(
            deps,
            SERVICE,
            TradeOpened(
                trade_id,
                client,
                None,
                symbol,
                direction,
                Decimal(volume),
                Decimal(price),
                None,
                now - timedelta(hours=5),
            ),
        )
    closes = [("demo-t6", "alice", "1.0900"), ("demo-t7", "bob", "151.90")]
    for trade_id, client, exit_price in closes:
        await ledger.record_trade_closed(
            deps,
            SERVICE,
            TradeClosed(trade_id, client, Decimal(exit_price), now - timedelta(hours=1), None),
        )
    await marks.update_mark_prices(
        deps,
        SERVICE,
        [
            ("EURUSD", Decimal("1.0875"), None),
            ("XAUUSD", Decimal("2640.50"), None),
            ("GBPUSD", Decimal("1.2650"), None),
            ("US500", Decimal("5925"), None),
        ],
    )
    return True
