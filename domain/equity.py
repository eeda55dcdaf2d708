"""Balance, equity and the running high-water-mark drawdown."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from domain.numbers import ZERO, percent


@dataclass(frozen=True, slots=True)
class AccountState:
    """Per-client running state: cash plus realized P&L, and the equity peak."""

    balance: Decimal = ZERO
    peak_equity: Decimal = ZERO
    net_cash_flows: Decimal = ZERO
    realized_pnl: Decimal = ZERO

    def after_cash_flow(self, amount: Decimal, unrealized: Decimal) -> AccountState:
        """A deposit is not a gain and a withdrawal not a loss: equity and peak move together."""
        balance = self.balance + amount
        peak = max(self.peak_equity + amount, ZERO)
        return replace(
            self,
            balance=balance,
            peak_equity=max(peak, balance + unrealized),
            net_cash_flows=self.net_cash_flows + amount,
        )

    def after_realized(self, pnl: Decimal, unrealized: Decimal) -> AccountState:
        """Book realized P&L, then raise the peak if equity made a new high."""
        balance = self.balance + pnl
        return replace(
            self,
            balance=balance,
            peak_equity=max(self.peak_equity, balance + unrealized),
            realized_pnl=self.realized_pnl + pnl,
        )

    def after_marks(self, unrealized: Decimal) -> AccountState:
        """New marks (or a position opened away from its mark) move equity; a new high moves
        the peak."""
        return replace(self, peak_equity=max(self.peak_equity, self.balance + unrealized))

    def equity(self, unrealized: Decimal) -> Decimal:
        return self.balance + unrealized


def drawdown_percent(peak: Decimal, equity: Decimal) -> Decimal:
    """(peak − equity) / peak × 100; 0 with no positive peak or at a new high."""
    if peak <= 0 or equity >= peak:
        return ZERO
    return percent(peak - equity, peak)


def daily_pnl(unrealized: Decimal, realized_today: Decimal) -> Decimal:
    """Equity − balance at the day's start − net cash flows since.

    Balance at the start already holds every earlier close and flow, and flows since the
    start cancel out, so what remains is today's realized P&L plus the open positions'
    unrealized P&L.
    """
    return unrealized + realized_today
