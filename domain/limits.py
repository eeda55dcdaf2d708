"""Platform limits (circuit breakers) and their validation."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from domain.errors import BadInput
from domain.numbers import LOT_STEP, is_multiple_of
from domain.profile import DEFAULT_CEILINGS, ClientCeilings, validate_ceilings
from domain.values import TradingMode

CONCENTRATION_MULTIPLE = Decimal(5)


@dataclass(frozen=True, slots=True)
class PlatformLimits:
    max_total_exposure: Decimal = Decimal(500_000)
    max_open_positions: int = 50
    max_position_size: Decimal = Decimal(100)
    max_daily_loss: Decimal = Decimal(50_000)
    # None: the instrument cap follows the platform max position size (× 5).
    max_instrument_volume: Decimal | None = None
    trading_mode: TradingMode = TradingMode.ACTIVE
    client_ceilings: ClientCeilings = field(default_factory=lambda: DEFAULT_CEILINGS)

    @property
    def instrument_volume_cap(self) -> Decimal:
        if self.max_instrument_volume is not None:
            return self.max_instrument_volume
        return self.max_position_size * CONCENTRATION_MULTIPLE


DEFAULT_PLATFORM_LIMITS = PlatformLimits()


def validate_platform_limits(limits: PlatformLimits) -> PlatformLimits:
    """Every cap strictly positive; lot-denominated caps on the lot step."""
    positives: dict[str, Decimal | int | None] = {
        "maxTotalExposure": limits.max_total_exposure,
        "maxOpenPositions": limits.max_open_positions,
        "maxPositionSize": limits.max_position_size,
        "maxDailyLoss": limits.max_daily_loss,
        "maxInstrumentVolume": limits.max_instrument_volume,
    }
    for name, value in positives.items():
        if value is None and name != "maxInstrumentVolume":
            raise BadInput(f"{name} may not be null", field=name)
        if value is not None and value <= 0:
            raise BadInput(f"{name} must be greater than 0", field=name)
    for name, lots in (
        ("maxPositionSize", limits.max_position_size),
        ("maxInstrumentVolume", limits.max_instrument_volume),
    ):
        if lots is not None and not is_multiple_of(lots, LOT_STEP):
            raise BadInput(f"{name} must be a multiple of {LOT_STEP} lots", field=name)
    if limits.max_open_positions > 1_000_000:
        raise BadInput("maxOpenPositions must be at most 1000000", field="maxOpenPositions")
    validate_ceilings(limits.client_ceilings)
    return limits
