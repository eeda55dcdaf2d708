"""Exact decimal handling: input validation, lot steps and output rounding."""

from __future__ import annotations

import decimal
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, InvalidOperation

from domain.errors import BadInput

# A notional multiplies four inputs (volume × contract × price × rate), each up to 28
# significant digits: the default 28-digit context would round it and then refuse to
# quantize it for output. Every thread and task started after this import inherits it.
PRECISION = 80
decimal.DefaultContext.prec = PRECISION
decimal.getcontext().prec = PRECISION

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)
CENT = Decimal("0.01")
LOT_STEP = Decimal("0.01")

MAX_SIGNIFICANT_DIGITS = 28
# Inputs are prices, volumes and money: nothing legitimate reaches 10**18 or needs
# more than 12 decimal places; anything beyond is a typo or an attack.
MAX_ADJUSTED_EXPONENT = 17
MIN_EXPONENT = -12


def parse_decimal(raw: object, *, field: str) -> Decimal:
    """Turn a wire value into a finite Decimal or raise BadInput naming `field`."""
    if isinstance(raw, bool):
        raise BadInput(f"{field} must be a decimal number", field=field)
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, float):
        value = Decimal(repr(raw)) if raw == raw and abs(raw) != float("inf") else Decimal("NaN")
    elif isinstance(raw, str):
        text = raw.strip()
        if not text or len(text) > 64:
            raise BadInput(f"{field} must be a decimal number", field=field)
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise BadInput(f"{field} is not a decimal number: {text[:32]!r}", field=field) from None
    else:
        raise BadInput(f"{field} must be a decimal number", field=field)
    return check_finite(value, field=field)


def check_finite(value: Decimal, *, field: str) -> Decimal:
    """Reject NaN, infinities, overflowing exponents and excess precision."""
    if not value.is_finite():
        raise BadInput(f"{field} must be a finite number", field=field)
    if value.is_zero():
        return Decimal(0)
    if value.adjusted() > MAX_ADJUSTED_EXPONENT:
        raise BadInput(f"{field} is out of range", field=field)
    # Trailing zeros of an integer part do not count as precision.
    trimmed = value.normalize()
    _, t_digits, t_exponent = trimmed.as_tuple()
    assert isinstance(t_exponent, int)
    if t_exponent < MIN_EXPONENT:
        raise BadInput(f"{field} has more than {-MIN_EXPONENT} decimal places", field=field)
    if len(t_digits) > MAX_SIGNIFICANT_DIGITS:
        raise BadInput(
            f"{field} has more than {MAX_SIGNIFICANT_DIGITS} significant digits", field=field
        )
    return value


def round2(value: Decimal) -> Decimal:
    """Round money, percentages, volumes and ratios for output (half-even)."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Round down to a whole number of steps (used for lot sizing)."""
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step


def is_multiple_of(value: Decimal, step: Decimal) -> bool:
    """True when `value` is an exact whole number of `step`s."""
    return (value % step).is_zero()


def require_positive(value: Decimal, *, field: str) -> Decimal:
    """A price, contract size or rate: strictly positive."""
    if value <= 0:
        raise BadInput(f"{field} must be greater than 0", field=field)
    return value


def percent(part: Decimal, whole: Decimal) -> Decimal:
    """part / whole × 100, 0 when `whole` is not positive (full precision)."""
    if whole <= 0:
        return ZERO
    return part / whole * HUNDRED


def loss_of(pnl: Decimal) -> Decimal:
    """A loss as a positive amount; a gain is no loss."""
    return -pnl if pnl < 0 else ZERO
