"""Feeding the API what the approval service reports: trades, cash flows, marks, limits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.support.client import GraphQLClient, Response
from tests.support.documents import CASH, CLOSE, MARKS, MODE, OPEN, PLATFORM, PROFILE
from tests.support.reports import alerts


def open_input(
    trade_id: str,
    client_id: str,
    volume: str = "0.10",
    *,
    instrument: str = "EURUSD",
    direction: str = "BUY",
    price: str = "1.1000",
    **extra: Any,
) -> dict[str, Any]:
    """A TradeOpenedInput; `extra` adds or overrides fields by their GraphQL names."""
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
    """A TradeClosedInput; `extra` adds fields such as `pnl` or `closedAt`."""
    return {"tradeId": trade_id, "clientId": client_id, "exitPrice": exit_price, **extra}


# A 0.01-lot EURUSD trade opened and closed at par: only its P&L moves the account.
AT_PAR: dict[str, Any] = {"volume": "0.01", "price": "1.0000", "exit_price": "1.0000"}


async def open_trade(
    api: GraphQLClient,
    trade_id: str,
    client_id: str,
    volume: str = "0.10",
    *,
    instrument: str = "EURUSD",
    direction: str = "BUY",
    price: str = "1.1000",
    **extra: Any,
) -> Any:
    trade = open_input(
        trade_id,
        client_id,
        volume,
        instrument=instrument,
        direction=direction,
        price=price,
        **extra,
    )
    return (await api.ok(OPEN, {"trade": trade}))["recordTradeOpened"]


async def close_trade(
    api: GraphQLClient, trade_id: str, client_id: str, exit_price: str, **extra: Any
) -> Any:
    data = await api.ok(CLOSE, {"trade": close_input(trade_id, client_id, exit_price, **extra)})
    return data["recordTradeClosed"]


async def realize(
    api: GraphQLClient,
    trade_id: str,
    client_id: str,
    pnl: str,
    *,
    volume: str = "0.10",
    price: str = "1.1000",
    exit_price: str = "1.1000",
) -> None:
    """Open and close a trade booking `pnl` now."""
    await open_trade(api, trade_id, client_id, volume, price=price)
    await close_trade(api, trade_id, client_id, exit_price, pnl=pnl)


async def cash_flow(
    api: GraphQLClient, flow_id: str, client_id: str, amount: str, **extra: Any
) -> Any:
    flow = {"flowId": flow_id, "clientId": client_id, "amount": amount, **extra}
    return (await api.ok(CASH, {"flow": flow}))["recordCashFlow"]


async def deposit(api: GraphQLClient, client_id: str, amount: str, flow_id: str = "") -> Any:
    """A cash flow whose id, unless given, is derived from the client and the amount."""
    return await cash_flow(api, flow_id or f"dep-{client_id}-{amount}", client_id, amount)


async def set_marks(api: GraphQLClient, *prices: dict[str, Any]) -> int:
    return int((await api.ok(MARKS, {"prices": list(prices)}))["updateMarkPrices"])


async def set_profile(api: GraphQLClient, client_id: str, **changes: Any) -> Any:
    data = await api.ok(PROFILE, {"clientId": client_id, "input": changes})
    return data["updateRiskProfile"]


async def set_platform(api: GraphQLClient, **changes: Any) -> Any:
    data = await api.ok(PLATFORM, {"input": changes}, role="admin")
    return data["updatePlatformLimits"]


async def set_mode(
    api: GraphQLClient, mode: str, client_id: str | None = None, **auth: Any
) -> Response:
    variables = {"clientId": client_id, "mode": mode, "reason": "test"}
    return await api.post(MODE, variables, **auth)


async def prepared_client(
    api: GraphQLClient, client_id: str, equity: str = "100000", **profile: Any
) -> None:
    """A funded client with the correlation check off unless the test sets it."""
    await deposit(api, client_id, equity)
    await set_profile(api, client_id, **{"maxCorrelationExposure": "1.00", **profile})


class Flows:
    """Drives accounts through the API as the approval service, numbering the event ids."""

    def __init__(self, api: GraphQLClient) -> None:
        self.api = api
        self._n = 0

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}-{self._n}"

    async def deposit(self, client_id: str, amount: str) -> None:
        await cash_flow(self.api, self._id(f"flow-{client_id}"), client_id, amount)

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
        await open_trade(
            self.api,
            trade_id,
            client_id,
            volume,
            instrument=instrument,
            direction=direction,
            price=price,
        )
        return trade_id

    async def close(
        self, client_id: str, trade_id: str, *, pnl: str, exit_price: str = "1.1"
    ) -> None:
        await close_trade(self.api, trade_id, client_id, exit_price, pnl=pnl)

    async def realize(self, client_id: str, pnl: str) -> None:
        """Open and close a 0.10-lot EURUSD trade booking `pnl`."""
        await realize(self.api, self._id(f"trade-{client_id}"), client_id, pnl, exit_price="1.1")

    async def marks(self, *prices: tuple[str, str]) -> None:
        await set_marks(self.api, *({"instrument": s, "price": p} for s, p in prices))

    async def profile(self, client_id: str, **changes: Any) -> None:
        await set_profile(self.api, client_id, **changes)

    async def alerts(
        self, client_id: str | None = None, *, role: str = "admin", sub: str | None = None
    ) -> list[dict[str, Any]]:
        return await alerts(self.api, client_id, role=role, sub=sub)


async def close_at(
    api: GraphQLClient, trade_id: str, client_id: str, pnl: str, at: datetime
) -> None:
    """Open a 0.01-lot trade at par and close it at `at`, booking `pnl`."""
    await open_trade(api, trade_id, client_id, "0.01", price="1.0000")
    trade = {
        "tradeId": trade_id,
        "clientId": client_id,
        "exitPrice": "1.0000",
        "pnl": pnl,
        "closedAt": at.isoformat(),
    }
    await api.ok(CLOSE, {"trade": trade})
