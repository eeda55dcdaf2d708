"""The instrument catalog and the notional of a position."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal

from domain.errors import BadInput
from domain.numbers import LOT_STEP, is_multiple_of, require_positive

SYMBOL_PATTERN = re.compile(r"^[A-Z0-9_.]{1,20}$")


@dataclass(frozen=True, slots=True)
class Instrument:
    symbol: str
    correlation_group: str
    contract_size: Decimal
    quote_to_account_rate: Decimal = Decimal(1)
    lot_step: Decimal = LOT_STEP
    min_volume: Decimal = LOT_STEP
    max_volume: Decimal = Decimal(100)
    mark_price: Decimal | None = None


def normalize_symbol(raw: str, *, field: str = "instrument") -> str:
    """Symbols are matched case-insensitively and stored upper-case."""
    symbol = raw.strip().upper()
    if not SYMBOL_PATTERN.match(symbol):
        raise BadInput(f"{field} is not a valid symbol: {raw[:24]!r}", field=field)
    return symbol


def known_instrument(found: Instrument | None, symbol: str) -> Instrument:
    """A signal or trade on a symbol the catalog lacks is bad input."""
    if found is None:
        raise BadInput(f"unknown instrument {symbol}", field="instrument")
    return found


MAX_MARKS_PER_CALL = 1000
Mark = tuple[str, Decimal, Decimal | None]


def validate_marks(prices: list[Mark]) -> list[Mark]:
    """A batch of marks: 1-1000 distinct known-shaped symbols, positive prices and rates."""
    if not prices:
        raise BadInput("prices must not be empty", field="prices")
    if len(prices) > MAX_MARKS_PER_CALL:
        raise BadInput(f"at most {MAX_MARKS_PER_CALL} prices per call", field="prices")
    seen: set[str] = set()
    out: list[Mark] = []
    for i, (raw, price, rate) in enumerate(prices):
        symbol = normalize_symbol(raw, field=f"prices[{i}].instrument")
        if symbol in seen:
            raise BadInput(f"{symbol} appears twice", field=f"prices[{i}].instrument")
        seen.add(symbol)
        require_positive(price, field=f"prices[{i}].price")
        if rate is not None:
            require_positive(rate, field=f"prices[{i}].quoteToAccountRate")
        out.append((symbol, price, rate))
    return out


def notional(volume: Decimal, price: Decimal, instrument: Instrument) -> Decimal:
    """Account-currency value of `volume` lots at `price`."""
    return volume * instrument.contract_size * price * instrument.quote_to_account_rate


def validate_volume(volume: Decimal, instrument: Instrument, *, field: str = "volume") -> Decimal:
    """Lots: a positive multiple of the lot step within the instrument's bounds."""
    if volume < instrument.min_volume:
        raise BadInput(f"{field} must be at least {instrument.min_volume} lots", field=field)
    if not is_multiple_of(volume, instrument.lot_step):
        raise BadInput(
            f"{field} must be a multiple of the lot step {instrument.lot_step}", field=field
        )
    if volume > instrument.max_volume:
        raise BadInput(
            f"{field} exceeds the instrument's maximum of {instrument.max_volume} lots",
            field=field,
        )
    return volume


def validate_instrument(instrument: Instrument) -> Instrument:
    """Check an admin-supplied catalog entry; symbol and correlation group are upper-cased."""
    symbol = normalize_symbol(instrument.symbol, field="symbol")
    group = instrument.correlation_group.strip().upper()
    if not group or len(group) > 40:
        raise BadInput("correlationGroup must be 1 to 40 characters", field="correlationGroup")
    require_positive(instrument.contract_size, field="contractSize")
    require_positive(instrument.quote_to_account_rate, field="quoteToAccountRate")
    require_positive(instrument.lot_step, field="lotStep")
    require_positive(instrument.min_volume, field="minVolume")
    if not is_multiple_of(instrument.min_volume, instrument.lot_step):
        raise BadInput("minVolume must be a multiple of lotStep", field="minVolume")
    if instrument.max_volume < instrument.min_volume:
        raise BadInput("maxVolume must be at least minVolume", field="maxVolume")
    return replace(instrument, symbol=symbol, correlation_group=group)


def _catalog() -> tuple[Instrument, ...]:
    # Quote-to-USD rates are start-up approximations; marks refresh them.
    jpy, chf, cad, gbp, eur = (Decimal(r) for r in ("0.0067", "1.13", "0.73", "1.27", "1.08"))
    fx = Decimal(100_000)
    rows: list[tuple[str, str, int | Decimal, Decimal]] = [
        ("EURUSD", "FX_MAJORS", fx, Decimal(1)),
        ("GBPUSD", "FX_MAJORS", fx, Decimal(1)),
        ("USDJPY", "FX_MAJORS", fx, jpy),
        ("USDCHF", "FX_MAJORS", fx, chf),
        ("AUDUSD", "FX_MAJORS", fx, Decimal(1)),
        ("USDCAD", "FX_MAJORS", fx, cad),
        ("NZDUSD", "FX_MAJORS", fx, Decimal(1)),
        ("EURGBP", "FX_CROSSES", fx, gbp),
        ("EURJPY", "FX_CROSSES", fx, jpy),
        ("GBPJPY", "FX_CROSSES", fx, jpy),
        ("EURCHF", "FX_CROSSES", fx, chf),
        ("AUDJPY", "FX_CROSSES", fx, jpy),
        ("XAUUSD", "METALS", 100, Decimal(1)),
        ("GOLD", "METALS", 100, Decimal(1)),
        ("XAGUSD", "METALS", 5_000, Decimal(1)),
        ("SILVER", "METALS", 5_000, Decimal(1)),
        ("USOIL", "ENERGY", 1_000, Decimal(1)),
        ("CRUDE_OIL", "ENERGY", 1_000, Decimal(1)),
        ("UKOIL", "ENERGY", 1_000, Decimal(1)),
        ("NATGAS", "ENERGY", 10_000, Decimal(1)),
        ("NATURAL_GAS", "ENERGY", 10_000, Decimal(1)),
        ("US30", "INDICES", 1, Decimal(1)),
        ("US500", "INDICES", 1, Decimal(1)),
        ("NAS100", "INDICES", 1, Decimal(1)),
        ("GER40", "INDICES", 1, eur),
        ("UK100", "INDICES", 1, gbp),
        ("BTCUSD", "CRYPTO", 1, Decimal(1)),
        ("ETHUSD", "CRYPTO", 1, Decimal(1)),
    ]
    return tuple(Instrument(s, g, Decimal(c), r) for s, g, c, r in rows)


DEFAULT_CATALOG: tuple[Instrument, ...] = _catalog()
