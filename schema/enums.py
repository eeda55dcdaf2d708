"""GraphQL enums, straight from the domain's."""

from __future__ import annotations

import strawberry

from domain import checks, ledger, values

Direction = strawberry.enum(values.Direction, name="Direction")
TradingMode = strawberry.enum(values.TradingMode, name="TradingMode")
AlertLevel = strawberry.enum(values.AlertLevel, name="AlertLevel")
TradeStatus = strawberry.enum(ledger.TradeStatus, name="TradeStatus")
LimitCheck = strawberry.enum(checks.LimitCheck, name="LimitCheck")
