"""GraphQL enums, straight from the domain's, with a description on every value."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

import strawberry
from strawberry.types.enum import has_enum_definition

from domain import breakers, checks, clients, ledger, values


def _describe(cls: type[Enum], name: str, description: str, docs: Mapping[Enum, str]) -> None:
    """Register the domain enum as a GraphQL enum; value descriptions are attached here
    because the domain imports no framework."""
    members = {member.name: member for member in cls}
    strawberry.enum(cls, name=name, description=description)
    assert has_enum_definition(cls)
    for value in cls.__strawberry_definition__.values:
        value.description = docs.get(members[value.name])


_describe(
    values.Direction,
    "Direction",
    "Side of a signal, trade or position.",
    {
        values.Direction.BUY: "Long: gains when the price rises.",
        values.Direction.SELL: "Short: gains when the price falls.",
    },
)
_describe(
    values.TradingMode,
    "TradingMode",
    "Kill-switch setting of the platform or of one client; the stricter of the two applies "
    "to every check.",
    {
        values.TradingMode.ACTIVE: "Normal trading: signals are judged by the limits alone.",
        values.TradingMode.REDUCE_ONLY: "Only signals that reduce an open opposite position "
        "of the client on the same instrument may pass (TRADING_HALTED otherwise).",
        values.TradingMode.HALTED: "No signal passes (TRADING_HALTED).",
    },
)
_describe(
    values.AlertLevel,
    "AlertLevel",
    "Level of a breaker. Client drawdown, daily and weekly loss: WARNING at 80 % of the limit, "
    "CRITICAL at 100 %; platform exposure and daily loss: WARNING at 90 %, CRITICAL at "
    "100 %. Trading modes: ACTIVE is OK, REDUCE_ONLY WARNING, HALTED CRITICAL.",
    {
        values.AlertLevel.OK: "Below the warning threshold (or the breaker is off).",
        values.AlertLevel.WARNING: "At or above the warning threshold, below the limit.",
        values.AlertLevel.CRITICAL: "At or above the limit.",
    },
)
_describe(
    breakers.BreakerKind,
    "AlertKind",
    "Which breaker raised an alert.",
    {
        breakers.BreakerKind.CLIENT_DRAWDOWN: "A client's drawdown (percent) against its "
        "maxDrawdownPercent.",
        breakers.BreakerKind.CLIENT_DAILY_LOSS: "A client's loss today (account currency) "
        "against its maxDailyLoss; a removed cap drops it back to OK.",
        breakers.BreakerKind.CLIENT_WEEKLY_LOSS: "A client's loss this trading week (realized "
        "this week + unrealized, account currency) against its maxWeeklyLoss; a removed cap "
        "drops it back to OK.",
        breakers.BreakerKind.PLATFORM_EXPOSURE: "Platform notional, reservations included "
        "(account currency), against the platform's maxTotalExposure.",
        breakers.BreakerKind.PLATFORM_DAILY_LOSS: "The platform's loss today (account "
        "currency) against the platform's maxDailyLoss.",
        breakers.BreakerKind.TRADING_MODE: "A trading-mode change of the platform (no "
        "clientId) or of a client; value and limit are 0, the message holds the reason.",
    },
)
_describe(
    ledger.TradeStatus,
    "TradeStatus",
    "Where a trade stands in the ledger.",
    {
        ledger.TradeStatus.OPEN: "Opened and not yet closed: it counts in exposure.",
        ledger.TradeStatus.CLOSED: "Closed: its realized P&L is in the balance.",
        ledger.TradeStatus.AWAITING_OPEN: "Its close arrived first; it is kept and applied "
        "when the open arrives.",
    },
)
_describe(
    checks.LimitCheck,
    "LimitCheck",
    "One pre-trade check. Every check is evaluated on every signal; each failing one is a "
    "Violation. 'Positions' means open positions plus active reservations.",
    {
        checks.LimitCheck.TRADING_HALTED: "The platform or the client is HALTED, or in "
        "REDUCE_ONLY and the signal does not reduce an opposite open position (limit 1; "
        "current 1 when blocked).",
        checks.LimitCheck.MAX_OPEN_POSITIONS: "Client positions + 1 > the profile's "
        "maxOpenPositions.",
        checks.LimitCheck.MAX_POSITION_SIZE: "Signal volume (lots) > the profile's "
        "maxPositionSize.",
        checks.LimitCheck.MAX_DAILY_LOSS: "With a maxDailyLoss set: today's loss ≥ the cap, "
        "or today's loss + the signal's loss at its stop > the cap (account currency).",
        checks.LimitCheck.MAX_DRAWDOWN: "Drawdown ≥ maxDrawdownPercent, or the drawdown after "
        "losing at the signal's stop > the limit (percent).",
        checks.LimitCheck.CORRELATION_EXPOSURE: "The client holds a position and |net signed "
        "notional of the signal's correlation group| / gross notional, both after the "
        "signal, > maxCorrelationExposure (ratio 0–1; off at 1.00).",
        checks.LimitCheck.PLATFORM_POSITION_SIZE: "Signal volume (lots) > the platform's "
        "maxPositionSize.",
        checks.LimitCheck.PLATFORM_EXPOSURE: "Platform notional incl. reservations + the "
        "signal's notional > the platform's maxTotalExposure (account currency).",
        checks.LimitCheck.PLATFORM_POSITIONS: "Platform positions + 1 > the platform's "
        "maxOpenPositions.",
        checks.LimitCheck.PLATFORM_DAILY_LOSS: "The platform's loss today ≥ the platform's "
        "maxDailyLoss (account currency).",
        checks.LimitCheck.INSTRUMENT_CONCENTRATION: "Platform lots on the instrument (open + "
        "reserved, both directions) + the signal's > maxInstrumentVolume.",
        checks.LimitCheck.MAX_LEVERAGE: "With a maxLeverage set: gross notional held and "
        "reserved + the signal's notional > maxLeverage × equity; with equity at or below 0 "
        "nothing may be levered (limit null and never failing while off).",
        checks.LimitCheck.MAX_WEEKLY_LOSS: "With a maxWeeklyLoss set: the trading week's loss "
        "(realized this week + unrealized) ≥ the cap, or that loss + the signal's loss at its "
        "stop > the cap (account currency).",
        checks.LimitCheck.COOLDOWN: "With a lossStreakLimit set: the client's last "
        "lossStreakLimit closed trades all lost and the last of them closed less than "
        "cooldownMinutes ago.",
        checks.LimitCheck.SIGNAL_RATE: "With a maxSignalsPerMinute set: the client's reserving "
        "checks exceed that many within a minute (a token bucket of that size, refilled at "
        "that rate; approved and refused checks both spend).",
        checks.LimitCheck.INSTRUMENT_NOT_ALLOWED: "The signal's instrument is missing from the "
        "client's allowedInstruments (when set) or is on its blockedInstruments (limit 1; "
        "current 1 when refused).",
    },
)


_describe(
    clients.ClientOrder,
    "ClientOrder",
    "How the clients overview ranks clients.",
    {
        clients.ClientOrder.EXPOSURE: "Largest total exposure first.",
        clients.ClientOrder.DRAWDOWN: "Deepest current drawdown first.",
        clients.ClientOrder.DAILY_PNL: "Worst daily P&L (biggest loss of the trading day) first.",
        clients.ClientOrder.CLIENT_ID: "By client id, alphabetically.",
    },
)

# The GraphQL enums are the domain's own classes, registered above.
Direction = values.Direction
TradingMode = values.TradingMode
AlertLevel = values.AlertLevel
AlertKind = breakers.BreakerKind
TradeStatus = ledger.TradeStatus
LimitCheck = checks.LimitCheck
ClientOrder = clients.ClientOrder
