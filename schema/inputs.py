"""Input types: what callers send; conversion to domain values happens here, checks do not."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry

from domain.decisions import SignalRequest
from domain.instruments import Instrument, normalize_symbol
from domain.ledger import TradeClosed, TradeOpened
from domain.numbers import LOT_STEP
from schema.enums import Direction


def given(obj: object, names: tuple[str, ...]) -> dict[str, Any]:
    """The fields the caller actually sent (an explicit null included)."""
    return {n: getattr(obj, n) for n in names if getattr(obj, n) is not strawberry.UNSET}


@strawberry.input
class RiskProfileInput:
    max_drawdown_percent: Decimal | None = strawberry.UNSET
    max_daily_loss: Decimal | None = strawberry.UNSET
    max_position_size: Decimal | None = strawberry.UNSET
    max_open_positions: int | None = strawberry.UNSET
    max_correlation_exposure: Decimal | None = strawberry.UNSET
    risk_per_trade_percent: Decimal | None = strawberry.UNSET
    max_leverage: Decimal | None = strawberry.field(
        default=strawberry.UNSET,
        description="Maximum leverage (gross notional / equity), 1 to 1000; null switches the "
        "check off.",
    )
    max_weekly_loss: Decimal | None = strawberry.field(
        default=strawberry.UNSET,
        description="Maximum loss over the trading week, greater than 0; null switches the "
        "check off.",
    )
    loss_streak_limit: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="Losing closes in a row (1 to 100) that start a cooldown; null switches "
        "the cooldown off.",
    )
    cooldown_minutes: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="Minutes without new trades after the losing streak, 1 to 10080 "
        "(default 60). As a client ceiling: the shortest cooldown a client may choose.",
    )
    max_signals_per_minute: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="Maximum reserving checks of the client per minute, 1 to 10000; null "
        "switches the check off.",
    )
    allowed_instruments: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="The only instruments the client may trade; null allows all. Unknown "
        "symbols are refused.",
    )
    blocked_instruments: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Instruments the client may not trade (empty by default). As a client "
        "ceiling: the instruments every client must keep blocked.",
    )
    stop_out_on_breach: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="When true, drawdown, daily loss or weekly loss reaching CRITICAL halts "
        "the client until its trading mode is set back. As a client ceiling: true makes it "
        "mandatory.",
    )

    def changes(self) -> dict[str, Any]:
        return given(self, LIMIT_NAMES + PROTECTION_INPUTS)


LIMIT_NAMES = (
    "max_drawdown_percent",
    "max_daily_loss",
    "max_position_size",
    "max_open_positions",
    "max_correlation_exposure",
    "risk_per_trade_percent",
)
PROTECTION_INPUTS = (
    "max_leverage",
    "max_weekly_loss",
    "loss_streak_limit",
    "cooldown_minutes",
    "max_signals_per_minute",
    "allowed_instruments",
    "blocked_instruments",
    "stop_out_on_breach",
)


@strawberry.input
class TradeOpenedInput:
    trade_id: str
    client_id: str
    instrument: str
    direction: Direction
    volume: Decimal
    entry_price: Decimal
    signal_id: str | None = None
    stop_loss: Decimal | None = None
    opened_at: datetime | None = None

    def event(self) -> TradeOpened:
        return TradeOpened(
            trade_id=self.trade_id,
            client_id=self.client_id,
            signal_id=self.signal_id,
            symbol=normalize_symbol(self.instrument),
            direction=self.direction,
            volume=self.volume,
            entry_price=self.entry_price,
            stop_loss=self.stop_loss,
            opened_at=self.opened_at,
        )


@strawberry.input
class TradeClosedInput:
    trade_id: str
    client_id: str
    exit_price: Decimal
    closed_at: datetime | None = None
    pnl: Decimal | None = None

    def event(self) -> TradeClosed:
        return TradeClosed(self.trade_id, self.client_id, self.exit_price, self.closed_at, self.pnl)


@strawberry.input
class CashFlowInput:
    flow_id: str
    client_id: str
    amount: Decimal
    occurred_at: datetime | None = None


@strawberry.input
class MarkPriceInput:
    instrument: str
    price: Decimal
    quote_to_account_rate: Decimal | None = None


@strawberry.input
class ClientCeilingsInput(RiskProfileInput):
    """The most permissive value a client may set for each limit of its own profile."""


@strawberry.input
class PlatformLimitsInput:
    max_total_exposure: Decimal | None = strawberry.UNSET
    max_open_positions: int | None = strawberry.UNSET
    max_position_size: Decimal | None = strawberry.UNSET
    max_daily_loss: Decimal | None = strawberry.UNSET
    max_instrument_volume: Decimal | None = strawberry.UNSET
    client_ceilings: ClientCeilingsInput | None = strawberry.UNSET

    def changes(self) -> dict[str, Any]:
        return given(
            self,
            (
                "max_total_exposure",
                "max_open_positions",
                "max_position_size",
                "max_daily_loss",
                "max_instrument_volume",
            ),
        )

    def ceiling_changes(self) -> dict[str, Any]:
        ceilings = self.client_ceilings
        return ceilings.changes() if ceilings else {}


@strawberry.input
class InstrumentInput:
    symbol: str
    correlation_group: str
    contract_size: Decimal
    quote_to_account_rate: Decimal = Decimal(1)
    lot_step: Decimal = LOT_STEP
    min_volume: Decimal = LOT_STEP
    max_volume: Decimal = Decimal(100)

    def instrument(self) -> Instrument:
        return Instrument(
            symbol=normalize_symbol(self.symbol, field="symbol"),
            correlation_group=self.correlation_group.strip().upper(),
            contract_size=self.contract_size,
            quote_to_account_rate=self.quote_to_account_rate,
            lot_step=self.lot_step,
            min_volume=self.min_volume,
            max_volume=self.max_volume,
        )


@strawberry.input
class SignalInput:
    signal_id: str
    instrument: str
    direction: Direction
    entry_price: Decimal
    client_id: str | None = None
    volume: Decimal | None = None
    stop_loss: Decimal | None = None

    def request(self) -> SignalRequest:
        return SignalRequest(
            signal_id=self.signal_id,
            client_id=self.client_id or "",
            symbol=self.instrument,
            direction=self.direction,
            volume=self.volume,
            entry_price=self.entry_price,
            stop_loss=self.stop_loss,
        )
