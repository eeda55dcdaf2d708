"""GraphQL documents and small wrappers for feeding trades, cash flows and marks to the API."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from riskgate.settings import Settings
from tests.client import GraphQLClient

TRADE_FIELDS = """
    tradeId clientId status signalId instrument direction volume entryPrice stopLoss
    openedAt exitPrice closedAt realizedPnl
"""
ACCOUNT_FIELDS = """
    clientId balance equity peakEquity currentDrawdownPercent netCashFlows realizedPnl
    openPositionsCount
"""
EXPOSURE_FIELDS = """
    clientId totalExposure
    byInstrument { instrument volume exposure }
    byDirection { direction exposure }
    openPositionsCount reservedPositionsCount reservedExposure
    equity currentDrawdownPercent dailyPnl
"""

OPEN = f"""
mutation Open($trade: TradeOpenedInput!) {{
  recordTradeOpened(trade: $trade) {{ {TRADE_FIELDS} }}
}}
"""
CLOSE = f"""
mutation Close($trade: TradeClosedInput!) {{
  recordTradeClosed(trade: $trade) {{ {TRADE_FIELDS} }}
}}
"""
CASH = f"""
mutation Cash($flow: CashFlowInput!) {{
  recordCashFlow(flow: $flow) {{ {ACCOUNT_FIELDS} }}
}}
"""
MARKS = """
mutation Marks($prices: [MarkPriceInput!]!) { updateMarkPrices(prices: $prices) }
"""
EXPOSURE = f"""
query Exposure($clientId: String) {{ exposure(clientId: $clientId) {{ {EXPOSURE_FIELDS} }} }}
"""
GLOBAL = """
{ globalExposure {
    totalPlatformExposure totalOpenPositions reservedPositions reservedExposure
    maxExposureLimit maxPositionsLimit exposureUtilizationPercent positionsUtilizationPercent
    dailyPlatformPnl maxDailyLoss tradingMode
    byInstrument { instrument volume exposure }
} }
"""


def open_input(
    trade_id: str,
    client_id: str,
    instrument: str = "EURUSD",
    direction: str = "BUY",
    volume: str = "0.10",
    price: str = "1.1000",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "tradeId": trade_id,
        "clientId": client_id,
        "instrument": instrument,
        "direction": direction,
        "volume": volume,
        "entryPrice": price,
        **extra,
    }


def close_input(trade_id: str, client_id: str, exit_price: str, **extra: Any) -> dict[str, Any]:
    return {"tradeId": trade_id, "clientId": client_id, "exitPrice": exit_price, **extra}


async def open_trade(api: GraphQLClient, trade_id: str, client_id: str, **kw: Any) -> Any:
    data = await api.ok(OPEN, {"trade": open_input(trade_id, client_id, **kw)})
    return data["recordTradeOpened"]


async def close_trade(
    api: GraphQLClient, trade_id: str, client_id: str, exit_price: str, **extra: Any
) -> Any:
    data = await api.ok(CLOSE, {"trade": close_input(trade_id, client_id, exit_price, **extra)})
    return data["recordTradeClosed"]


async def cash_flow(
    api: GraphQLClient, flow_id: str, client_id: str, amount: str, **extra: Any
) -> Any:
    flow = {"flowId": flow_id, "clientId": client_id, "amount": amount, **extra}
    return (await api.ok(CASH, {"flow": flow}))["recordCashFlow"]


async def set_marks(api: GraphQLClient, *prices: dict[str, Any]) -> int:
    return int((await api.ok(MARKS, {"prices": list(prices)}))["updateMarkPrices"])


async def exposure(api: GraphQLClient, client_id: str) -> Any:
    return (await api.ok(EXPOSURE, {"clientId": client_id}))["exposure"]


async def global_exposure(api: GraphQLClient) -> Any:
    return (await api.ok(GLOBAL, role="admin"))["globalExposure"]


def by_instrument(report: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {row["instrument"]: (row["volume"], row["exposure"]) for row in report["byInstrument"]}


def by_direction(report: dict[str, Any]) -> dict[str, str]:
    return {row["direction"]: row["exposure"] for row in report["byDirection"]}


def without_client(report: dict[str, Any]) -> dict[str, Any]:
    """The report's figures, for comparing two clients fed the same events."""
    return {k: v for k, v in report.items() if k not in {"clientId", "timestamp"}}


async def count_rows(settings: Settings, table: Any, *where: Any) -> int:
    """Rows in a table, read straight from the database the app uses."""
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.connect() as conn:
            stmt = select(func.count()).select_from(table).where(*where)
            return int((await conn.execute(stmt)).scalar_one())
    finally:
        await engine.dispose()
