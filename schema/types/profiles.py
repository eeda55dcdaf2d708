"""Views of a client's risk profile, the client ceilings and the platform limits."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from domain.limits import PlatformLimits
from domain.numbers import round2
from domain.profile import ClientCeilings, RiskProfile
from schema.enums import TradingMode
from schema.types._shared import _limit_fields, _protection_fields


@strawberry.type(
    name="RiskProfile",
    description=(
        "A client's risk limits, protections and trading mode. Created with the defaults the "
        "first time the client is seen."
    ),
)
class RiskProfileView:
    id: strawberry.ID = strawberry.field(description="Stable id of the profile row.")
    client_id: str = strawberry.field(description="The client this profile belongs to.")
    max_drawdown_percent: Decimal = strawberry.field(
        description=(
            "Drawdown limit, percent 1–100 (default 20.00). MAX_DRAWDOWN fails at or above it."
        )
    )
    max_daily_loss: Decimal | None = strawberry.field(
        description=(
            "Daily loss cap in the account currency (> 0); null means no cap and no MAX_DAILY_LOSS "
            "check."
        )
    )
    max_position_size: Decimal = strawberry.field(
        description="Largest volume of one signal, lots 0.01–100 on the 0.01 step (default 1.00)."
    )
    max_open_positions: int = strawberry.field(
        description="Most open positions plus active reservations, 1–1000 (default 5)."
    )
    max_correlation_exposure: Decimal = strawberry.field(
        description=(
            "Largest share of gross notional one correlation group may hold net, ratio 0.01–1.00 "
            "(default 0.70); 1.00 switches the check off."
        )
    )
    risk_per_trade_percent: Decimal = strawberry.field(
        description=(
            "Share of equity risked at the stop when a volume is sized, percent 0.10–10.00 "
            "(default 2.00)."
        )
    )
    trading_mode: TradingMode = strawberry.field(
        description="The client's own trading mode (the platform's applies as well)."
    )
    updated_at: datetime = strawberry.field(
        description="When the limits, protections or the mode last changed."
    )
    max_leverage: Decimal | None = strawberry.field(
        description="Maximum leverage (gross notional of positions and reservations over "
        "equity); null when off."
    )
    max_weekly_loss: Decimal | None = strawberry.field(
        description="Maximum loss over the trading week; null when off."
    )
    loss_streak_limit: int | None = strawberry.field(
        description="Losing closes in a row that start a cooldown; null when off."
    )
    cooldown_minutes: int = strawberry.field(
        description="Minutes without new trades after a losing streak of lossStreakLimit."
    )
    max_signals_per_minute: int | None = strawberry.field(
        description="Maximum reserving checks of the client per minute; null when off."
    )
    allowed_instruments: list[str] | None = strawberry.field(
        description="The only instruments the client may trade; null allows all."
    )
    blocked_instruments: list[str] = strawberry.field(
        description="Instruments the client may not trade."
    )
    stop_out_on_breach: bool = strawberry.field(
        description="Whether drawdown, daily loss or weekly loss reaching CRITICAL halts the "
        "client until its trading mode is set back."
    )

    @classmethod
    def of(cls, profile: RiskProfile) -> RiskProfileView:
        limits = profile.limits
        assert profile.updated_at is not None
        return cls(
            id=strawberry.ID(str(profile.id)),
            client_id=profile.client_id,
            **_limit_fields(limits),
            trading_mode=profile.trading_mode,
            updated_at=profile.updated_at,
            **_protection_fields(profile.protections),
        )


@strawberry.type(
    name="ClientCeilings",
    description=(
        "The most permissive value a client may set for each limit and protection of its own "
        "profile (admin-set). "
        "Service and admin callers are bound only by the allowed ranges."
    ),
)
class ClientCeilingsView:
    max_drawdown_percent: Decimal = strawberry.field(
        description="Highest maxDrawdownPercent a client may set."
    )
    max_daily_loss: Decimal | None = strawberry.field(
        description=(
            "Highest maxDailyLoss a client may set; null means no ceiling (a client may also clear "
            "its cap)."
        )
    )
    max_position_size: Decimal = strawberry.field(
        description="Highest maxPositionSize a client may set (lots)."
    )
    max_open_positions: int = strawberry.field(
        description="Highest maxOpenPositions a client may set."
    )
    max_correlation_exposure: Decimal = strawberry.field(
        description="Highest maxCorrelationExposure a client may set (ratio)."
    )
    risk_per_trade_percent: Decimal = strawberry.field(
        description="Highest riskPerTradePercent a client may set."
    )
    max_leverage: Decimal | None = strawberry.field(
        description="Highest leverage cap a client may set; null: a client may also switch it off."
    )
    max_weekly_loss: Decimal | None = strawberry.field(
        description="Highest weekly loss cap a client may set; null: a client may also "
        "switch it off."
    )
    loss_streak_limit: int | None = strawberry.field(
        description="Longest losing streak a client may allow before a cooldown; null: a "
        "client may also switch it off."
    )
    cooldown_minutes: int = strawberry.field(
        description="Shortest cooldown a client may set, in minutes."
    )
    max_signals_per_minute: int | None = strawberry.field(
        description="Highest signal rate a client may set; null: a client may also switch it off."
    )
    allowed_instruments: list[str] | None = strawberry.field(
        description="Instruments a client's allow list may name; null: any, and a client "
        "may allow all."
    )
    blocked_instruments: list[str] = strawberry.field(
        description="Instruments every client's block list must keep."
    )
    stop_out_on_breach: bool = strawberry.field(
        description="When true, a client may not switch its stop-out off."
    )

    @classmethod
    def of(cls, c: ClientCeilings) -> ClientCeilingsView:
        return cls(**_limit_fields(c), **_protection_fields(c.protections))


@strawberry.type(
    name="PlatformLimits",
    description=(
        "Platform-wide caps (circuit breakers), the platform trading mode and the client ceilings "
        "(admin)."
    ),
)
class PlatformLimitsView:
    max_total_exposure: Decimal = strawberry.field(
        description=(
            "Cap on platform notional incl. reservations (account currency; default 500000)."
        )
    )
    max_open_positions: int = strawberry.field(
        description="Cap on platform open positions plus reservations (default 50)."
    )
    max_position_size: Decimal = strawberry.field(
        description="Largest volume of any one signal, lots (default 100)."
    )
    max_daily_loss: Decimal = strawberry.field(
        description="Platform daily loss cap (account currency; default 50000)."
    )
    max_instrument_volume: Decimal = strawberry.field(
        description=(
            "Cap on platform lots per instrument, open plus reserved; 5 × maxPositionSize unless "
            "set."
        )
    )
    trading_mode: TradingMode = strawberry.field(
        description="The platform's trading mode (the kill switch)."
    )
    client_ceilings: ClientCeilingsView = strawberry.field(
        description="What clients may set on their own profiles."
    )
    updated_at: datetime = strawberry.field(description="When the limits last changed.")

    @classmethod
    def of(cls, limits: PlatformLimits, updated_at: datetime) -> PlatformLimitsView:
        return cls(
            max_total_exposure=round2(limits.max_total_exposure),
            max_open_positions=limits.max_open_positions,
            max_position_size=round2(limits.max_position_size),
            max_daily_loss=round2(limits.max_daily_loss),
            max_instrument_volume=round2(limits.instrument_volume_cap),
            trading_mode=limits.trading_mode,
            client_ceilings=ClientCeilingsView.of(limits.client_ceilings),
            updated_at=updated_at,
        )
