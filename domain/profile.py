"""Risk profile: defaults, allowed ranges, client ceilings and validated updates."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.errors import BadInput
from domain.numbers import LOT_STEP, is_multiple_of
from domain.protections import DEFAULT_PROTECTIONS, OPEN_CEILINGS, Protections
from domain.values import TradingMode

# \Z, not $: "$" also matches before a trailing newline, which would let "alice\n" in.
CLIENT_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}\Z")


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """The six limits a client's profile sets."""

    max_drawdown_percent: Decimal = Decimal("20.00")
    max_daily_loss: Decimal | None = None
    max_position_size: Decimal = Decimal("1.00")
    max_open_positions: int = 5
    max_correlation_exposure: Decimal = Decimal("0.70")
    risk_per_trade_percent: Decimal = Decimal("2.00")


DEFAULT_LIMITS = RiskLimits()

# The limits a profile may leave unset (an explicit null clears them); no other may be null.
NULLABLE_LIMITS = frozenset(f.name for f in fields(RiskLimits) if f.default is None)

# Public (API) name of each limit, used to name the field in errors.
PUBLIC_NAMES: dict[str, str] = {
    "max_drawdown_percent": "maxDrawdownPercent",
    "max_daily_loss": "maxDailyLoss",
    "max_position_size": "maxPositionSize",
    "max_open_positions": "maxOpenPositions",
    "max_correlation_exposure": "maxCorrelationExposure",
    "risk_per_trade_percent": "riskPerTradePercent",
}

# Inclusive ranges; max_daily_loss has only a lower bound (strictly above 0).
RANGES: dict[str, tuple[Decimal, Decimal | None]] = {
    "max_drawdown_percent": (Decimal(1), Decimal(100)),
    "max_daily_loss": (Decimal(0), None),
    "max_position_size": (Decimal("0.01"), Decimal(100)),
    "max_open_positions": (Decimal(1), Decimal(1000)),
    "max_correlation_exposure": (Decimal("0.01"), Decimal("1.00")),
    "risk_per_trade_percent": (Decimal("0.10"), Decimal("10.00")),
}

CORRELATION_OFF = Decimal("1.00")


@dataclass(frozen=True, slots=True)
class ClientCeilings:
    """The most permissive value a client may set for itself (admin-set)."""

    max_drawdown_percent: Decimal = Decimal(100)
    max_daily_loss: Decimal | None = None
    max_position_size: Decimal = Decimal(100)
    max_open_positions: int = 1000
    max_correlation_exposure: Decimal = Decimal("1.00")
    risk_per_trade_percent: Decimal = Decimal("10.00")
    # The most permissive protection settings a client may choose (see domain.protections).
    protections: Protections = OPEN_CEILINGS


DEFAULT_CEILINGS = ClientCeilings()


def validate_client_id(raw: str, *, field: str = "clientId") -> str:
    if not CLIENT_ID_PATTERN.match(raw):
        raise BadInput(f"{field} must be 1-64 characters of letters, digits and ._:@-", field=field)
    return raw


def _check_range(name: str, value: Decimal | int) -> None:
    low, high = RANGES[name]
    public = PUBLIC_NAMES[name]
    if name == "max_daily_loss":
        if value <= low:
            raise BadInput(f"{public} must be greater than 0", field=public)
        return
    if value < low or (high is not None and value > high):
        raise BadInput(f"{public} must be between {low} and {high}", field=public)
    if name == "max_position_size" and not is_multiple_of(Decimal(value), LOT_STEP):
        raise BadInput(f"{public} must be a multiple of {LOT_STEP} lots", field=public)


def _check_ceiling(name: str, value: Decimal | int | None, ceilings: ClientCeilings) -> None:
    ceiling = getattr(ceilings, name)
    if ceiling is None:
        return
    public = PUBLIC_NAMES[name]
    if value is None:
        raise BadInput(
            f"{public} may not be cleared: the platform caps it at {ceiling}", field=public
        )
    if value > ceiling:
        raise BadInput(f"{public} may not exceed the platform ceiling of {ceiling}", field=public)


def apply_limit_changes(
    current: RiskLimits,
    changes: dict[str, Any],
    *,
    ceilings: ClientCeilings | None,
) -> RiskLimits:
    """Validate a partial update; `ceilings` applies to clients changing their own profile.

    Any invalid field rejects the whole update, so nothing is half-applied.
    """
    known = {f.name for f in fields(RiskLimits)}
    for name, value in changes.items():
        if name not in known:
            raise BadInput(f"unknown limit {name}", field=name)
        if value is None:
            if name not in NULLABLE_LIMITS:
                raise BadInput(f"{PUBLIC_NAMES[name]} may not be null", field=PUBLIC_NAMES[name])
        else:
            _check_range(name, value)
        if ceilings is not None:
            _check_ceiling(name, value, ceilings)
    return replace(current, **changes)


def validate_ceilings(ceilings: ClientCeilings) -> ClientCeilings:
    """Ceilings are themselves values a profile could hold; only a limit a profile may
    leave unset (maxDailyLoss) may be left without a ceiling."""
    for f in fields(ClientCeilings):
        if f.name == "protections":
            continue
        value = getattr(ceilings, f.name)
        public = f"clientCeilings.{PUBLIC_NAMES[f.name]}"
        if value is None:
            if f.name not in NULLABLE_LIMITS:
                raise BadInput(f"{public} may not be null", field=public)
            continue
        try:
            _check_range(f.name, value)
        except BadInput as error:
            raise BadInput(f"clientCeilings.{error.message}", field=public) from None
    return ceilings


@dataclass(frozen=True, slots=True)
class RiskProfile:
    client_id: str
    limits: RiskLimits
    trading_mode: TradingMode = TradingMode.ACTIVE
    id: int = 0
    updated_at: datetime | None = None
    protections: Protections = DEFAULT_PROTECTIONS


def default_profile(client_id: str, at: datetime | None = None) -> RiskProfile:
    """The profile a client not yet seen would get (for reads that must not create it)."""
    return RiskProfile(client_id, DEFAULT_LIMITS, updated_at=at)
