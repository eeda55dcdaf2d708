"""Position sizing: the worked example, each clamp, bad inputs and bounds as properties."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import BadInput
from domain.instruments import Instrument
from domain.numbers import floor_to_step, is_multiple_of
from domain.sizing import PositionSizing, size_position

D = Decimal
EURUSD = Instrument("EURUSD", "FX_MAJORS", D(100_000))
USDJPY = Instrument("USDJPY", "FX_MAJORS", D(100_000), D("0.0067"))
US30 = Instrument("US30", "INDICES", D(1))


def size(**overrides: Any) -> PositionSizing:
    args: dict[str, Any] = {
        "equity": D(10_000),
        "risk_per_trade_percent": D(2),
        "entry_price": D("1.1000"),
        "stop_loss": D("1.0950"),
        "instrument": EURUSD,
        "max_position_size": D(1),
        "platform_max_position_size": D(100),
    }
    args.update(overrides)
    return size_position(**args)


def test_worked_example() -> None:
    result = size()
    assert result == PositionSizing(D("0.40"), D(200), D(200), D(10_000), None)
    assert str(result.volume) == "0.40"


def test_sell_side_stop_above_entry_sizes_the_same() -> None:
    assert size(entry_price=D("1.0950"), stop_loss=D("1.1000")).volume == D("0.40")


def test_rounds_down_to_the_lot_step() -> None:
    # 200 / (0.0030 × 100,000) = 0.666… lots.
    result = size(stop_loss=D("1.0970"))
    assert result.volume == D("0.66")
    assert result.risk_at_stop == D("198")
    assert result.clamped_by is None


def test_uses_the_quote_to_account_rate() -> None:
    # 200 / (1.00 × 100,000 × 0.0067) = 0.298… lots.
    result = size(entry_price=D("150.00"), stop_loss=D("149.00"), instrument=USDJPY)
    assert result.volume == D("0.29")
    assert result.risk_at_stop == D("0.29") * 100_000 * D("0.0067")


def test_clamped_up_to_the_minimum() -> None:
    result = size(equity=D(100), stop_loss=D("1.0000"))
    assert result.volume == D("0.01")
    assert result.clamped_by == "MIN_VOLUME"
    assert result.risk_at_stop == D("100")
    assert result.risk_amount == D(2)


def test_instrument_minimum_above_lot_step() -> None:
    chunky = Instrument("XX", "G", D(1), lot_step=D("0.10"), min_volume=D("0.50"))
    result = size(instrument=chunky, equity=D(100), entry_price=D(100), stop_loss=D(50))
    assert result.volume == D("0.50")
    assert result.clamped_by == "MIN_VOLUME"


@pytest.mark.parametrize(
    ("client_max", "platform_max", "instrument_max", "volume", "bound"),
    [
        ("1.00", "100", "100", "1.00", "MAX_POSITION_SIZE"),
        ("5.00", "2.50", "100", "2.50", "PLATFORM_POSITION_SIZE"),
        ("5.00", "100", "3.00", "3.00", "INSTRUMENT_MAX_VOLUME"),
        ("2.00", "2.00", "2.00", "2.00", "MAX_POSITION_SIZE"),
    ],
)
def test_clamped_down_by_the_tightest_ceiling(
    client_max: str, platform_max: str, instrument_max: str, volume: str, bound: str
) -> None:
    fx = Instrument("EURUSD", "FX_MAJORS", D(100_000), max_volume=D(instrument_max))
    result = size(
        equity=D(1_000_000),
        instrument=fx,
        max_position_size=D(client_max),
        platform_max_position_size=D(platform_max),
    )
    assert result.volume == D(volume)
    assert result.clamped_by == bound
    assert result.risk_at_stop == D("0.0050") * D(volume) * 100_000
    assert result.risk_amount == D(20_000)


def test_exactly_on_the_ceiling_is_not_clamped() -> None:
    # 200 / 500 = 0.40 lots, and the ceiling is 0.40.
    result = size(max_position_size=D("0.40"))
    assert (result.volume, result.clamped_by) == (D("0.40"), None)


def test_ceiling_off_the_lot_step_is_floored_to_it() -> None:
    coarse = Instrument("XX", "G", D(1), lot_step=D("0.10"), min_volume=D("0.10"))
    result = size(
        instrument=coarse,
        equity=D(1_000_000),
        entry_price=D(100),
        stop_loss=D(99),
        max_position_size=D("0.55"),
    )
    assert (result.volume, result.clamped_by) == (D("0.50"), "MAX_POSITION_SIZE")


def test_crossed_bounds_return_the_minimum() -> None:
    chunky = Instrument("XX", "G", D(1), lot_step=D("0.10"), min_volume=D("0.50"))
    result = size(instrument=chunky, max_position_size=D("0.20"), entry_price=D(10), stop_loss=D(9))
    assert (result.volume, result.clamped_by) == (D("0.50"), "MIN_VOLUME")


@pytest.mark.parametrize(
    ("overrides", "field", "text"),
    [
        ({"stop_loss": D("1.1000")}, "stopLoss", "stopLoss must differ from entryPrice"),
        ({"entry_price": D(0)}, "entryPrice", "entryPrice must be greater than 0"),
        ({"entry_price": D(-1)}, "entryPrice", "entryPrice must be greater than 0"),
        ({"stop_loss": D(0)}, "stopLoss", "stopLoss must be greater than 0"),
        ({"risk_per_trade_percent": D(0)}, "riskPerTradePercent", "greater than 0"),
        ({"equity": D(0)}, "clientId", "no positive equity"),
        ({"equity": D("-250.50")}, "clientId", "no positive equity"),
    ],
)
def test_bad_inputs(overrides: dict[str, Any], field: str, text: str) -> None:
    with pytest.raises(BadInput) as caught:
        size(**overrides)
    assert caught.value.field == field
    assert text in caught.value.message


def cents(low: int, high: int) -> st.SearchStrategy[Decimal]:
    """Decimals from low/100 to high/100 in steps of 0.01."""
    return st.integers(low, high).map(lambda n: D(n) / 100)


@st.composite
def instruments(draw: st.DrawFn) -> Instrument:
    step = draw(st.sampled_from([D("0.01"), D("0.05"), D("0.10"), D(1)]))
    min_volume = step * draw(st.integers(1, 5))
    max_volume = min_volume + step * draw(st.integers(0, 10_000))
    return Instrument(
        "XX",
        "G",
        draw(st.sampled_from([D(1), D(100), D(5_000), D(100_000)])),
        draw(st.sampled_from([D(1), D("0.0067"), D("1.27"), D("0.73")])),
        lot_step=step,
        min_volume=min_volume,
        max_volume=max_volume,
    )


@settings(max_examples=200, deadline=None)
@given(
    instruments(),
    cents(1, 10**10),
    cents(10, 1_000),
    st.integers(1, 10**7).map(lambda n: D(n) / 10_000),
    st.integers(1, 10**7).map(lambda n: D(n) / 10_000),
    cents(1, 10_000),
    cents(1, 10_000),
)
def test_sizing_stays_within_every_bound(
    instrument: Instrument,
    equity: Decimal,
    risk: Decimal,
    entry: Decimal,
    stop: Decimal,
    client_max: Decimal,
    platform_max: Decimal,
) -> None:
    if entry == stop:
        stop = entry + D("0.0001")
    result = size(
        equity=equity,
        risk_per_trade_percent=risk,
        entry_price=entry,
        stop_loss=stop,
        instrument=instrument,
        max_position_size=client_max,
        platform_max_position_size=platform_max,
    )
    lower = max(D("0.01"), instrument.min_volume)
    upper = min(client_max, platform_max, instrument.max_volume)
    per_lot = abs(entry - stop) * instrument.contract_size * instrument.quote_to_account_rate
    assert result.volume >= D("0.01")
    assert result.volume >= instrument.min_volume
    assert is_multiple_of(result.volume, instrument.lot_step)
    assert result.risk_amount == equity * risk / 100
    assert result.risk_at_stop == per_lot * result.volume
    if lower <= floor_to_step(upper, instrument.lot_step):
        assert result.volume <= upper
    else:
        assert (result.volume, result.clamped_by) == (lower, "MIN_VOLUME")
    if result.clamped_by is None:
        # Unclamped: the most lots whose loss at the stop fits in the money at risk.
        assert result.risk_at_stop <= result.risk_amount
        assert per_lot * (result.volume + instrument.lot_step) > result.risk_amount
    elif result.clamped_by == "MIN_VOLUME":
        assert result.volume == lower
    else:
        assert result.risk_at_stop <= result.risk_amount
