"""Rounding helpers the views share."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.numbers import round2
from domain.profile import ClientCeilings, RiskLimits
from domain.protections import Protections


def _r(value: Decimal | None) -> Decimal | None:
    return None if value is None else round2(value)


def _limit_fields(limits: RiskLimits | ClientCeilings) -> dict[str, Any]:
    """The six limits as shown: percentages, lots and ratios to 2 decimals."""
    return {
        "max_drawdown_percent": round2(limits.max_drawdown_percent),
        "max_daily_loss": _r(limits.max_daily_loss),
        "max_position_size": round2(limits.max_position_size),
        "max_open_positions": limits.max_open_positions,
        "max_correlation_exposure": round2(limits.max_correlation_exposure),
        "risk_per_trade_percent": round2(limits.risk_per_trade_percent),
    }


def _protection_fields(p: Protections) -> dict[str, Any]:
    return {
        "max_leverage": _r(p.max_leverage),
        "max_weekly_loss": _r(p.max_weekly_loss),
        "loss_streak_limit": p.loss_streak_limit,
        "cooldown_minutes": p.cooldown_minutes,
        "max_signals_per_minute": p.max_signals_per_minute,
        "allowed_instruments": (
            None if p.allowed_instruments is None else list(p.allowed_instruments)
        ),
        "blocked_instruments": list(p.blocked_instruments),
        "stop_out_on_breach": p.stop_out_on_breach,
    }
