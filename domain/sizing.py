"""Position sizing: the volume that risks a fixed share of equity at the stop."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from domain.errors import BadInput
from domain.instruments import Instrument
from domain.numbers import HUNDRED, LOT_STEP, floor_to_step

MIN_VOLUME = "MIN_VOLUME"
MAX_POSITION_SIZE = "MAX_POSITION_SIZE"
PLATFORM_POSITION_SIZE = "PLATFORM_POSITION_SIZE"
INSTRUMENT_MAX_VOLUME = "INSTRUMENT_MAX_VOLUME"


@dataclass(frozen=True, slots=True)
class PositionSizing:
    """A sized volume, the money it was meant to risk and what it risks at the stop."""

    volume: Decimal
    risk_amount: Decimal
    risk_at_stop: Decimal
    equity: Decimal
    # Which bound replaced the computed volume, None when it fit.
    clamped_by: str | None


def _ceil_to_step(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(rounding=ROUND_CEILING) * step


def size_position(
    *,
    equity: Decimal,
    risk_per_trade_percent: Decimal,
    entry_price: Decimal,
    stop_loss: Decimal,
    instrument: Instrument,
    max_position_size: Decimal,
    platform_max_position_size: Decimal,
) -> PositionSizing:
    """Size a trade to risk `risk_per_trade_percent` of equity at the stop.

    volume = equity × risk% / 100 / (|entry − stop| × contractSize × rate), rounded down to
    the lot step, clamped to [max(0.01, instrument min), min(maxPositionSize, platform max,
    instrument max)]. When the bounds cross (an instrument minimum above a maximum) the
    minimum tradable volume is returned, clamped by MIN_VOLUME, and the limit checks then
    reject it. An account without positive equity raises BadInput on `clientId`: the
    account, not an input value, is what cannot be sized.
    """
    if entry_price <= 0:
        raise BadInput("entryPrice must be greater than 0", field="entryPrice")
    if stop_loss <= 0:
        raise BadInput("stopLoss must be greater than 0", field="stopLoss")
    if stop_loss == entry_price:
        raise BadInput("stopLoss must differ from entryPrice", field="stopLoss")
    if risk_per_trade_percent <= 0:
        raise BadInput("riskPerTradePercent must be greater than 0", field="riskPerTradePercent")
    if equity <= 0:
        raise BadInput(
            f"the account has no positive equity ({equity}) to size a position from",
            field="clientId",
        )
    step = instrument.lot_step
    risk_amount = equity * risk_per_trade_percent / HUNDRED
    risk_per_lot = (
        abs(entry_price - stop_loss) * instrument.contract_size * instrument.quote_to_account_rate
    )
    sized = floor_to_step(risk_amount / risk_per_lot, step)

    lower = _ceil_to_step(max(LOT_STEP, instrument.min_volume), step)
    # The client's own limit is named first on a tie: it is the one a client can change.
    ceilings = (
        (max_position_size, MAX_POSITION_SIZE),
        (platform_max_position_size, PLATFORM_POSITION_SIZE),
        (instrument.max_volume, INSTRUMENT_MAX_VOLUME),
    )
    upper, upper_name = min(ceilings, key=lambda c: c[0])
    upper = floor_to_step(upper, step)

    volume = sized
    clamped_by: str | None = None
    if sized > upper:
        volume, clamped_by = upper, upper_name
    if volume < lower:
        volume, clamped_by = lower, MIN_VOLUME
    # Bounded by now, so quantizing only fixes the exponent: 0.40, not 0.4 or 4E-1.
    volume = volume.quantize(step)
    return PositionSizing(
        volume=volume,
        risk_amount=risk_amount,
        risk_at_stop=risk_per_lot * volume,
        equity=equity,
        clamped_by=clamped_by,
    )
