"""Small GraphQL flows that move breakers: cash flows, trades, marks, profile changes."""

from __future__ import annotations

from typing import Any

from tests.client import GraphQLClient

ALERT_FIELDS = "id clientId kind level previousLevel value limit message createdAt"

ALERTS = f"""
query Alerts($clientId: String, $limit: Int! = 100) {{
  breakerAlerts(clientId: $clientId, limit: $limit) {{ {ALERT_FIELDS} }}
}}
"""
SUBSCRIBE = f"""
subscription Watch($clientId: String) {{
  breakerAlerts(clientId: $clientId) {{ {ALERT_FIELDS} }}
}}
"""
CASH = """
mutation Cash($flow: CashFlowInput!) { recordCashFlow(flow: $flow) { balance } }
"""
OPEN = """
mutation Open($trade: TradeOpenedInput!) { recordTradeOpened(trade: $trade) { status } }
"""
CLOSE = """
mutation Close($trade: TradeClosedInput!) { recordTradeClosed(trade: $trade) { status } }
"""
MARKS = """
mutation Marks($prices: [MarkPriceInput!]!) { updateMarkPrices(prices: $prices) }
"""
PROFILE = """
mutation Profile($clientId: String, $input: RiskProfileInput!) {
  updateRiskProfile(clientId: $clientId, input: $input) { maxDailyLoss }
}
"""
MODE = """
mutation Mode($clientId: String, $mode: TradingMode!, $reason: String!) {
  setTradingMode(clientId: $clientId, mode: $mode, reason: $reason)
}
"""
CHECK = """
mutation Check($signal: SignalInput!) {
  checkSignal(signal: $signal) { passes reservationExpiresAt }
}
"""


class Flows:
    """Drives one client's account through the API as the approval service."""

    def __init__(self, api: GraphQLClient) -> None:
        self.api = api
        self._n = 0

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}-{self._n}"

    async def deposit(self, client_id: str, amount: str) -> None:
        flow = {"flowId": self._id(f"flow-{client_id}"), "clientId": client_id, "amount": amount}
        await self.api.ok(CASH, {"flow": flow})

    async def open(
        self,
        client_id: str,
        *,
        instrument: str = "EURUSD",
        direction: str = "BUY",
        volume: str = "0.10",
        price: str = "1.1000",
    ) -> str:
        trade_id = self._id(f"trade-{client_id}")
        trade = {
            "tradeId": trade_id,
            "clientId": client_id,
            "instrument": instrument,
            "direction": direction,
            "volume": volume,
            "entryPrice": price,
        }
        await self.api.ok(OPEN, {"trade": trade})
        return trade_id

    async def close(
        self, client_id: str, trade_id: str, *, pnl: str, exit_price: str = "1.1"
    ) -> None:
        trade = {"tradeId": trade_id, "clientId": client_id, "exitPrice": exit_price, "pnl": pnl}
        await self.api.ok(CLOSE, {"trade": trade})

    async def realize(self, client_id: str, pnl: str) -> None:
        """Open and close a trade booking `pnl`."""
        await self.close(client_id, await self.open(client_id), pnl=pnl)

    async def marks(self, *prices: tuple[str, str]) -> None:
        rows = [{"instrument": s, "price": p} for s, p in prices]
        await self.api.ok(MARKS, {"prices": rows})

    async def profile(self, client_id: str, **changes: Any) -> None:
        await self.api.ok(PROFILE, {"clientId": client_id, "input": changes})

    async def alerts(
        self, client_id: str | None = None, *, role: str = "admin", sub: str | None = None
    ) -> list[dict[str, Any]]:
        data = await self.api.ok(ALERTS, {"clientId": client_id}, role=role, sub=sub)
        return list(data["breakerAlerts"])


def levels(alerts: list[dict[str, Any]], kind: str) -> list[tuple[str, str]]:
    """(previousLevel, level) of one kind's alerts, oldest first."""
    return [(a["previousLevel"], a["level"]) for a in reversed(alerts) if a["kind"] == kind]
