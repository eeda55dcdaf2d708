"""GraphQL enums, straight from the domain's."""

from __future__ import annotations

from enum import Enum

import strawberry

from domain import checks, clients, ledger, values

Direction = strawberry.enum(values.Direction, name="Direction")
TradingMode = strawberry.enum(values.TradingMode, name="TradingMode")
AlertLevel = strawberry.enum(values.AlertLevel, name="AlertLevel")
TradeStatus = strawberry.enum(ledger.TradeStatus, name="TradeStatus")
LimitCheck = strawberry.enum(checks.LimitCheck, name="LimitCheck")


@strawberry.enum(name="ClientOrder", description="How the clients overview ranks clients.")
class ClientOrder(Enum):
    EXPOSURE = strawberry.enum_value(
        clients.ClientOrder.EXPOSURE.value, description="Largest total exposure first."
    )
    DRAWDOWN = strawberry.enum_value(
        clients.ClientOrder.DRAWDOWN.value, description="Deepest current drawdown first."
    )
    DAILY_PNL = strawberry.enum_value(
        clients.ClientOrder.DAILY_PNL.value,
        description="Worst daily P&L (biggest loss of the trading day) first.",
    )
    CLIENT_ID = strawberry.enum_value(
        clients.ClientOrder.CLIENT_ID.value, description="By client id, alphabetically."
    )
