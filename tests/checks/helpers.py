"""Documents and small wrappers for the checkSignal tests: state set-up and result lookups."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from db.tables import reservations, risk_decisions
from riskgate.app import create_app
from tests.client import GraphQLClient, Response
from tests.conftest import Clock, make_settings

EXPOSURE_FIELDS = """
    clientId totalExposure byInstrument { instrument volume exposure }
    byDirection { direction exposure } openPositionsCount reservedPositionsCount
    reservedExposure equity currentDrawdownPercent dailyPnl
"""
RISK_CHECK_FIELDS = f"""
    signalId clientId passes volume notional
    violations {{ check limit current message }}
    headroom {{ check limit used remaining }}
    exposure {{ {EXPOSURE_FIELDS} }}
    profile {{ clientId maxOpenPositions maxPositionSize maxCorrelationExposure tradingMode }}
    decisionId reservationExpiresAt checkedAt
"""
CHECK = f"""
mutation Check($signal: SignalInput!, $dryRun: Boolean!) {{
  checkSignal(signal: $signal, dryRun: $dryRun) {{ {RISK_CHECK_FIELDS} }}
}}
"""
RELEASE = "mutation Release($id: String!) { releaseSignal(signalId: $id) }"
DECISIONS = f"""
query Decisions($clientId: String, $limit: Int!) {{
  riskDecisions(clientId: $clientId, limit: $limit) {{ {RISK_CHECK_FIELDS} }}
}}
"""
POSITION_SIZE = """
query Size($clientId: String, $instrument: String!, $entry: Decimal!, $stop: Decimal!) {
  positionSize(clientId: $clientId, instrument: $instrument, entryPrice: $entry, stopLoss: $stop)
  { volume riskAmount riskAtStop equity clampedBy }
}
"""
EXPOSURE = f"""
query Exposure($clientId: String) {{ exposure(clientId: $clientId) {{ {EXPOSURE_FIELDS} }} }}
"""
GLOBAL = """
{ globalExposure {
    totalPlatformExposure totalOpenPositions reservedPositions reservedExposure
    maxExposureLimit maxPositionsLimit dailyPlatformPnl maxDailyLoss tradingMode
    byInstrument { instrument volume exposure }
} }
"""
OPEN = """
mutation Open($trade: TradeOpenedInput!) {
  recordTradeOpened(trade: $trade) { tradeId status signalId volume }
}
"""
CLOSE = """
mutation Close($trade: TradeClosedInput!) {
  recordTradeClosed(trade: $trade) { tradeId status realizedPnl }
}
"""
CASH = """
mutation Cash($flow: CashFlowInput!) {
  recordCashFlow(flow: $flow) { balance equity peakEquity currentDrawdownPercent }
}
"""
MARKS = "mutation Marks($prices: [MarkPriceInput!]!) { updateMarkPrices(prices: $prices) }"
PROFILE = """
mutation Profile($clientId: String, $input: RiskProfileInput!) {
  updateRiskProfile(clientId: $clientId, input: $input) { clientId }
}
"""
PLATFORM = """
mutation Platform($input: PlatformLimitsInput!) {
  updatePlatformLimits(input: $input) { maxTotalExposure maxOpenPositions maxPositionSize }
}
"""
MODE = """
mutation Mode($clientId: String, $mode: TradingMode!, $reason: String!) {
  setTradingMode(clientId: $clientId, mode: $mode, reason: $reason)
}
"""

ALL_CHECKS = (
    "TRADING_HALTED",
    "MAX_OPEN_POSITIONS",
    "MAX_POSITION_SIZE",
    "MAX_DAILY_LOSS",
    "MAX_DRAWDOWN",
    "CORRELATION_EXPOSURE",
    "PLATFORM_POSITION_SIZE",
    "PLATFORM_EXPOSURE",
    "PLATFORM_POSITIONS",
    "PLATFORM_DAILY_LOSS",
    "INSTRUMENT_CONCENTRATION",
)


def signal(
    signal_id: str,
    client_id: str,
    volume: str | None = "0.10",
    *,
    instrument: str = "EURUSD",
    direction: str = "BUY",
    entry: str = "1.0000",
    stop: str | None = None,
) -> dict[str, Any]:
    """A SignalInput; EURUSD at 1.0000 makes 0.10 lots worth exactly 10,000."""
    payload: dict[str, Any] = {
        "signalId": signal_id,
        "clientId": client_id,
        "instrument": instrument,
        "direction": direction,
        "entryPrice": entry,
    }
    if volume is not None:
        payload["volume"] = volume
    if stop is not None:
        payload["stopLoss"] = stop
    return payload


async def post_check(
    api: GraphQLClient, payload: dict[str, Any], *, dry_run: bool = False, **auth: Any
) -> Response:
    return await api.post(CHECK, {"signal": payload, "dryRun": dry_run}, **auth)


async def check(
    api: GraphQLClient, payload: dict[str, Any], *, dry_run: bool = False, **auth: Any
) -> dict[str, Any]:
    """Run checkSignal and require an answer (passing or not)."""
    data = await api.ok(CHECK, {"signal": payload, "dryRun": dry_run}, **auth)
    return dict(data["checkSignal"])


def violation(result: dict[str, Any], name: str) -> dict[str, Any] | None:
    found = [v for v in result["violations"] if v["check"] == name]
    assert len(found) <= 1, result["violations"]
    return found[0] if found else None


def violated(result: dict[str, Any]) -> set[str]:
    return {v["check"] for v in result["violations"]}


def headroom(result: dict[str, Any], name: str) -> dict[str, Any] | None:
    found = [h for h in result["headroom"] if h["check"] == name]
    assert len(found) <= 1, result["headroom"]
    return found[0] if found else None


async def deposit(api: GraphQLClient, client_id: str, amount: str, flow_id: str = "") -> Any:
    flow = {"flowId": flow_id or f"dep-{client_id}-{amount}", "clientId": client_id}
    data = await api.ok(CASH, {"flow": {**flow, "amount": amount}})
    return data["recordCashFlow"]


async def open_trade(
    api: GraphQLClient,
    trade_id: str,
    client_id: str,
    volume: str = "0.10",
    *,
    instrument: str = "EURUSD",
    direction: str = "BUY",
    price: str = "1.0000",
    signal_id: str | None = None,
) -> Any:
    trade: dict[str, Any] = {
        "tradeId": trade_id,
        "clientId": client_id,
        "instrument": instrument,
        "direction": direction,
        "volume": volume,
        "entryPrice": price,
    }
    if signal_id is not None:
        trade["signalId"] = signal_id
    return (await api.ok(OPEN, {"trade": trade}))["recordTradeOpened"]


async def close_trade(
    api: GraphQLClient, trade_id: str, client_id: str, *, pnl: str, exit_price: str = "1.0000"
) -> Any:
    trade = {"tradeId": trade_id, "clientId": client_id, "exitPrice": exit_price, "pnl": pnl}
    return (await api.ok(CLOSE, {"trade": trade}))["recordTradeClosed"]


async def realize(api: GraphQLClient, trade_id: str, client_id: str, pnl: str) -> None:
    """Open and close a 0.01-lot trade booking `pnl` today."""
    await open_trade(api, trade_id, client_id, "0.01")
    await close_trade(api, trade_id, client_id, pnl=pnl)


async def set_profile(api: GraphQLClient, client_id: str, **changes: Any) -> None:
    await api.ok(PROFILE, {"clientId": client_id, "input": changes})


async def set_platform(api: GraphQLClient, **changes: Any) -> Any:
    data = await api.ok(PLATFORM, {"input": changes}, role="admin")
    return data["updatePlatformLimits"]


async def set_mode(
    api: GraphQLClient, mode: str, client_id: str | None = None, **auth: Any
) -> Response:
    variables = {"clientId": client_id, "mode": mode, "reason": "test"}
    return await api.post(MODE, variables, **auth)


async def exposure(api: GraphQLClient, client_id: str) -> Any:
    return (await api.ok(EXPOSURE, {"clientId": client_id}))["exposure"]


async def global_exposure(api: GraphQLClient) -> Any:
    return (await api.ok(GLOBAL, role="admin"))["globalExposure"]


async def decisions(api: GraphQLClient, client_id: str | None, **auth: Any) -> list[Any]:
    data = await api.ok(DECISIONS, {"clientId": client_id, "limit": 500}, **auth)
    return list(data["riskDecisions"])


async def release(api: GraphQLClient, signal_id: str, **auth: Any) -> bool:
    return bool((await api.ok(RELEASE, {"id": signal_id}, **auth))["releaseSignal"])


async def prepared_client(
    api: GraphQLClient, client_id: str, equity: str = "100000", **profile: Any
) -> None:
    """A funded client with the correlation check off unless the test sets it."""
    await deposit(api, client_id, equity)
    await set_profile(api, client_id, **{"maxCorrelationExposure": "1.00", **profile})


async def stored_rows(url: str) -> tuple[int, int]:
    """(reservations, risk decisions) as stored, read straight from the database."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            held = (await conn.execute(select(func.count()).select_from(reservations))).scalar()
            decided = (
                await conn.execute(select(func.count()).select_from(risk_decisions))
            ).scalar()
    finally:
        await engine.dispose()
    return int(held or 0), int(decided or 0)


@asynccontextmanager
async def instance(url: str, clock: Clock | None = None, **settings: Any) -> AsyncIterator[Any]:
    """One app process' worth on `url`: its own settings, engine and connection pool."""
    built = make_settings(url, **settings)
    app = create_app(built, now=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://riskgate.test") as http:
            client = GraphQLClient(http, built)
            client.app = app  # type: ignore[attr-defined]
            yield client
