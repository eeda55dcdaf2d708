"""Position aggregates: what a book holds per instrument and direction, and its value."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.instruments import Instrument
from domain.numbers import ZERO
from domain.values import Direction


@dataclass(frozen=True, slots=True)
class PositionBook:
    """Running sums of the open positions of one book on one instrument and direction.

    `entry_value` is Σ volume × entry price, so notional and unrealized P&L at a mark are
    linear in the sums and need no per-trade rows.
    """

    symbol: str
    direction: Direction
    volume: Decimal = ZERO
    entry_value: Decimal = ZERO
    count: int = 0

    def opened(self, volume: Decimal, entry_price: Decimal) -> PositionBook:
        return PositionBook(
            self.symbol,
            self.direction,
            self.volume + volume,
            self.entry_value + volume * entry_price,
            self.count + 1,
        )

    def closed(self, volume: Decimal, entry_price: Decimal) -> PositionBook:
        """Remove one position; sums are floored at zero so counts never go negative."""
        count = max(self.count - 1, 0)
        if count == 0:
            return PositionBook(self.symbol, self.direction)
        return PositionBook(
            self.symbol,
            self.direction,
            max(self.volume - volume, ZERO),
            max(self.entry_value - volume * entry_price, ZERO),
            count,
        )


def book_notional(book: PositionBook, instrument: Instrument) -> Decimal:
    """Gross account-currency value, at the mark when known, else at entry prices."""
    scale = instrument.contract_size * instrument.quote_to_account_rate
    if instrument.mark_price is None:
        return book.entry_value * scale
    return book.volume * instrument.mark_price * scale


def book_unrealized(book: PositionBook, instrument: Instrument) -> Decimal:
    """Unrealized P&L at the mark; 0 while the instrument has no mark."""
    if instrument.mark_price is None:
        return ZERO
    scale = instrument.contract_size * instrument.quote_to_account_rate
    return (book.volume * instrument.mark_price - book.entry_value) * scale * book.direction.sign


def position_pnl(
    direction: Direction,
    volume: Decimal,
    entry_price: Decimal,
    exit_price: Decimal,
    instrument: Instrument,
) -> Decimal:
    """P&L of one position between two prices, in account currency."""
    scale = volume * instrument.contract_size * instrument.quote_to_account_rate
    return (exit_price - entry_price) * scale * direction.sign
