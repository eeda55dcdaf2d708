"""GraphQL enums, straight from the domain's."""

from __future__ import annotations

import strawberry

from domain import checks, ledger, values

Direction = strawberry.enum(values.Direction, name="Direction")
TradingMode = strawberry.enum(values.TradingMode, name="TradingMode")
AlertLevel = strawberry.enum(values.AlertLevel, name="AlertLevel")
TradeStatus = strawberry.enum(ledger.TradeStatus, name="TradeStatus")
LimitCheck = strawberry.enum(checks.LimitCheck, name="LimitCheck")

# The protections' values carry their own descriptions (the domain enum cannot).
_PROTECTION_CHECKS = {
    "MAX_LEVERAGE": "Gross notional held and reserved plus the signal's, over equity, is above "
    "the profile's maxLeverage (or equity is not positive while a cap is set).",
    "MAX_WEEKLY_LOSS": "The trading week's loss has reached maxWeeklyLoss, or would pass it if "
    "the signal lost at its stop.",
    "COOLDOWN": "The client's last lossStreakLimit closed trades all lost and the last of them "
    "closed less than cooldownMinutes ago.",
    "SIGNAL_RATE": "More reserving checks of the client than maxSignalsPerMinute within a "
    "minute (a token bucket of that size, refilled at that rate).",
    "INSTRUMENT_NOT_ALLOWED": "The signal's instrument is outside the client's "
    "allowedInstruments or on its blockedInstruments.",
}
for _value in LimitCheck.__strawberry_definition__.values:  # type: ignore[attr-defined]
    if _value.name in _PROTECTION_CHECKS:
        _value.description = _PROTECTION_CHECKS[_value.name]
