"""Input types: what callers send; conversion to domain values happens here, checks do not."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import strawberry

from domain.decisions import SignalRequest
from domain.errors import BadInput
from domain.instruments import Instrument, normalize_symbol
from domain.ledger import TradeClosed, TradeOpened
from domain.numbers import LOT_STEP
from domain.profile import PUBLIC_NAMES
from domain.protections import PROTECTION_NAMES
from schema.enums import Direction

# The clientId argument of per-client operations.
ClientIdArg = Annotated[
    str | None,
    strawberry.argument(
        description="The client; a client caller may omit it (it is the token's subject), service "
        "and admin callers must give it."
    ),
]


def given(obj: object, names: tuple[str, ...]) -> dict[str, Any]:
    """The fields the caller actually sent (an explicit null included)."""
    return {n: getattr(obj, n) for n in names if getattr(obj, n) is not strawberry.UNSET}


@strawberry.input(
    description=(
        "A partial change of a client's limits and protections: omitted fields stay as they are. "
        "Any value out of range rejects the whole change (BAD_USER_INPUT naming the field)."
    )
)
class RiskProfileInput:
    max_drawdown_percent: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="Drawdown limit, percent 1–100."
    )
    max_daily_loss: Decimal | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "Daily loss cap in the account currency, > 0; an explicit null removes the cap (for a "
            "ceiling: no ceiling)."
        ),
    )
    max_position_size: Decimal | None = strawberry.field(
        default=strawberry.UNSET,
        description="Largest volume of one signal, lots 0.01–100 on the 0.01 step.",
    )
    max_open_positions: int | None = strawberry.field(
        default=strawberry.UNSET, description="Most open positions plus reservations, 1–1000."
    )
    max_correlation_exposure: Decimal | None = strawberry.field(
        default=strawberry.UNSET,
        description="Correlation ratio limit 0.01–1.00; 1.00 switches the check off.",
    )
    risk_per_trade_percent: Decimal | None = strawberry.field(
        default=strawberry.UNSET,
        description="Share of equity risked at the stop when sizing, percent 0.10–10.00.",
    )
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


# The limit and protection fields, by their Python names (from the rules that range them).
LIMIT_NAMES = tuple(PUBLIC_NAMES)
PROTECTION_INPUTS = tuple(PROTECTION_NAMES)


@strawberry.input(
    description=(
        "A trade the broker opened. Idempotent by tradeId: the same payload again changes nothing, "
        "another payload is CONFLICT."
    )
)
class TradeOpenedInput:
    trade_id: str = strawberry.field(
        description="Your id of the trade, 1–128 printable characters (idempotency key)."
    )
    client_id: str = strawberry.field(
        description="The client, 1–64 characters of letters, digits and ._:@-."
    )
    instrument: str = strawberry.field(
        description="Symbol from the catalog (case-insensitive); unknown is BAD_USER_INPUT."
    )
    direction: Direction = strawberry.field(description="Side.")
    volume: Decimal = strawberry.field(
        description="Lots: a multiple of the instrument's lot step within its min and max volume."
    )
    entry_price: Decimal = strawberry.field(description="Fill price in the quote currency, > 0.")
    signal_id: str | None = strawberry.field(
        default=None,
        description="The checked signal this trade executes: its reservation is consumed.",
    )
    stop_loss: Decimal | None = strawberry.field(default=None, description="Stop price, > 0.")
    opened_at: datetime | None = strawberry.field(
        default=None,
        description="When it opened (ISO 8601 with a zone, at most 5 minutes ahead); default: now.",
    )

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


@strawberry.input(
    description=(
        "A trade the broker closed. Idempotent by tradeId; may arrive before its open (it is kept "
        "and applied when the open arrives)."
    )
)
class TradeClosedInput:
    trade_id: str = strawberry.field(description="The tradeId of the open.")
    client_id: str = strawberry.field(description="The client; must match the open.")
    exit_price: Decimal = strawberry.field(description="Exit price in the quote currency, > 0.")
    closed_at: datetime | None = strawberry.field(
        default=None,
        description="When it closed; decides the trading day of its P&L. Default: when it arrived.",
    )
    pnl: Decimal | None = strawberry.field(
        default=None,
        description=(
            "Broker-booked realized P&L in the account currency (swaps and commissions included); "
            "default: the price move at exitPrice."
        ),
    )

    def event(self) -> TradeClosed:
        return TradeClosed(self.trade_id, self.client_id, self.exit_price, self.closed_at, self.pnl)


@strawberry.input(
    description="A deposit (amount > 0) or withdrawal (amount < 0). Idempotent by flowId."
)
class CashFlowInput:
    flow_id: str = strawberry.field(
        description="Your id of the flow, 1–128 printable characters (idempotency key)."
    )
    client_id: str = strawberry.field(description="The client.")
    amount: Decimal = strawberry.field(
        description="Account currency: > 0 deposit, < 0 withdrawal, never 0."
    )
    occurred_at: datetime | None = strawberry.field(
        default=None, description="When it happened (ISO 8601 with a zone); default: now."
    )


@strawberry.input(description="The latest price of one instrument.")
class MarkPriceInput:
    instrument: str = strawberry.field(description="Symbol from the catalog.")
    price: Decimal = strawberry.field(description="Latest price in the quote currency, > 0.")
    quote_to_account_rate: Decimal | None = strawberry.field(
        default=None, description="New quote-to-account conversion rate, > 0; omitted: unchanged."
    )


@strawberry.input(
    description=(
        "The most permissive value a client may set for each limit and protection of its own "
        "profile; same ranges as the profile. Omitted fields stay as they are."
    )
)
class ClientCeilingsInput(RiskProfileInput):
    """The most permissive value a client may set for each limit of its own profile."""


@strawberry.input(
    description=(
        "A partial change of the platform caps and client ceilings: omitted fields stay as they "
        "are; an invalid value rejects the whole change."
    )
)
class PlatformLimitsInput:
    max_total_exposure: Decimal | None = strawberry.field(
        default=strawberry.UNSET,
        description="Cap on platform notional incl. reservations (account currency), > 0.",
    )
    max_open_positions: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="Cap on platform positions plus reservations, 1–1000000.",
    )
    max_position_size: Decimal | None = strawberry.field(
        default=strawberry.UNSET,
        description="Largest volume of one signal (lots, on the 0.01 step), > 0.",
    )
    max_daily_loss: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="Platform daily loss cap (account currency), > 0."
    )
    max_instrument_volume: Decimal | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "Cap on platform lots per instrument (on the 0.01 step); null: 5 × maxPositionSize."
        ),
    )
    client_ceilings: ClientCeilingsInput | None = strawberry.field(
        default=strawberry.UNSET, description="Changes to the client ceilings."
    )

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
        if ceilings is None:  # explicit null: there is nothing to clear the ceilings to
            raise BadInput("clientCeilings may not be null", field="clientCeilings")
        return {} if ceilings is strawberry.UNSET else ceilings.changes()


@strawberry.input(description="A catalog entry to create or replace (its mark price is kept).")
class InstrumentInput:
    symbol: str = strawberry.field(
        description="Symbol: 1–20 characters A–Z, 0–9, _ or . (stored upper-case)."
    )
    correlation_group: str = strawberry.field(
        description="Correlation group, 1–40 characters (stored upper-case)."
    )
    contract_size: Decimal = strawberry.field(description="Units of the underlying per lot, > 0.")
    quote_to_account_rate: Decimal = strawberry.field(
        default=Decimal(1),
        description="Converts the quote currency into the account currency, > 0.",
    )
    lot_step: Decimal = strawberry.field(default=LOT_STEP, description="Volume step (lots), > 0.")
    min_volume: Decimal = strawberry.field(
        default=LOT_STEP, description="Smallest volume (lots), a multiple of lotStep."
    )
    max_volume: Decimal = strawberry.field(
        default=Decimal(100), description="Largest volume (lots), at least minVolume."
    )

    def instrument(self) -> Instrument:
        return Instrument(
            symbol=normalize_symbol(self.symbol, field="symbol"),
            correlation_group=self.correlation_group,
            contract_size=self.contract_size,
            quote_to_account_rate=self.quote_to_account_rate,
            lot_step=self.lot_step,
            min_volume=self.min_volume,
            max_volume=self.max_volume,
        )


@strawberry.input(description="A proposed trade for one client.")
class SignalInput:
    signal_id: str = strawberry.field(
        description=(
            "Your id of this signal for this client, 1–128 printable characters; unique across "
            "clients (a master signal copied to many clients needs one id per copy). Idempotency "
            "key of reserving checks: the same id and payload returns the first decision, another "
            "payload is CONFLICT."
        )
    )
    instrument: str = strawberry.field(
        description="Symbol from the catalog (case-insensitive); unknown is BAD_USER_INPUT."
    )
    direction: Direction = strawberry.field(description="Side.")
    entry_price: Decimal = strawberry.field(
        description="Entry price in the quote currency, > 0; the signal's notional is taken at it."
    )
    client_id: str | None = strawberry.field(
        default=None,
        description=(
            "The client; a client caller may omit it (it is the token's subject), service and "
            "admin must give it."
        ),
    )
    volume: Decimal | None = strawberry.field(
        default=None,
        description=(
            "Lots (multiple of the lot step); omitted: sized from stopLoss and riskPerTradePercent."
        ),
    )
    stop_loss: Decimal | None = strawberry.field(
        default=None,
        description=(
            "Stop price, > 0. Required when volume is omitted; with it, the daily loss and "
            "drawdown checks count the loss at the stop."
        ),
    )

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
