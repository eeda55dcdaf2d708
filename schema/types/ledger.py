"""Views of the ledger: trades, accounts and catalog instruments."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from domain.exposure import ClientExposure
from domain.instruments import Instrument
from domain.ledger import TradeRecord
from domain.numbers import round2
from schema.enums import Direction, TradeStatus
from schema.types._shared import _r


@strawberry.type(
    name="Trade",
    description=(
        "A trade as the ledger knows it. Fields of the open are null while only its close has "
        "arrived (status AWAITING_OPEN)."
    ),
)
class TradeView:
    trade_id: str = strawberry.field(description="The caller's id of the trade (idempotency key).")
    client_id: str = strawberry.field(description="The client the trade belongs to.")
    status: TradeStatus = strawberry.field(description="Where the trade stands.")
    signal_id: str | None = strawberry.field(
        description="The checked signal this trade was opened from, if any."
    )
    instrument: str | None = strawberry.field(
        description="Instrument symbol; null until the open arrives."
    )
    direction: Direction | None = strawberry.field(description="Side; null until the open arrives.")
    volume: Decimal | None = strawberry.field(description="Lots; null until the open arrives.")
    entry_price: Decimal | None = strawberry.field(
        description="Entry price in the quote currency; null until the open arrives."
    )
    stop_loss: Decimal | None = strawberry.field(description="Stop price, when one was given.")
    opened_at: datetime | None = strawberry.field(
        description="When the trade opened; null until the open arrives."
    )
    exit_price: Decimal | None = strawberry.field(description="Exit price; null while open.")
    closed_at: datetime | None = strawberry.field(
        description="When the trade closed (decides its trading day); null while open."
    )
    realized_pnl: Decimal | None = strawberry.field(
        description=(
            "Realized P&L in the account currency: the reported pnl, else the price move at the "
            "exit; null until both open and close are known."
        )
    )

    @classmethod
    def of(cls, record: TradeRecord) -> TradeView:
        opened, closed = record.opened, record.closed
        return cls(
            trade_id=record.trade_id,
            client_id=record.client_id,
            status=record.status,
            signal_id=opened.signal_id if opened else None,
            instrument=opened.symbol if opened else None,
            direction=opened.direction if opened else None,
            volume=_r(opened.volume) if opened else None,
            entry_price=opened.entry_price if opened else None,
            stop_loss=opened.stop_loss if opened else None,
            opened_at=record.opened_at,
            exit_price=closed.exit_price if closed else None,
            closed_at=record.closed_at,
            realized_pnl=_r(record.realized_pnl),
        )


@strawberry.type(
    name="Account",
    description="A client's account after a cash flow. Money in the account currency.",
)
class AccountView:
    client_id: str = strawberry.field(description="The client.")
    balance: Decimal = strawberry.field(
        description="Net cash flows + realized P&L (account currency)."
    )
    equity: Decimal = strawberry.field(description="Balance + unrealized P&L at the latest marks.")
    peak_equity: Decimal = strawberry.field(
        description="High-water mark of equity; cash flows move it with equity."
    )
    current_drawdown_percent: Decimal = strawberry.field(
        description="(peak equity − equity) / peak equity × 100."
    )
    net_cash_flows: Decimal = strawberry.field(description="Deposits minus withdrawals.")
    realized_pnl: Decimal = strawberry.field(description="Realized P&L of every closed trade.")
    open_positions_count: int = strawberry.field(description="Open positions.")

    @classmethod
    def of(cls, exposure: ClientExposure) -> AccountView:
        account = exposure.account
        return cls(
            client_id=exposure.client_id,
            balance=round2(account.balance),
            equity=round2(exposure.equity),
            peak_equity=round2(account.peak_equity),
            current_drawdown_percent=round2(exposure.drawdown_percent),
            net_cash_flows=round2(account.net_cash_flows),
            realized_pnl=round2(account.realized_pnl),
            open_positions_count=exposure.totals.open_positions,
        )


@strawberry.type(
    name="Instrument",
    description="A catalog entry: how a lot of the instrument converts into money.",
)
class InstrumentView:
    symbol: str = strawberry.field(description="Upper-case symbol, e.g. EURUSD.")
    correlation_group: str = strawberry.field(
        description="Group for CORRELATION_EXPOSURE, e.g. FX_MAJORS, METALS."
    )
    contract_size: Decimal = strawberry.field(
        description="Units of the underlying per lot (100000 for FX majors, 100 for XAUUSD)."
    )
    quote_to_account_rate: Decimal = strawberry.field(
        description="Converts a price in the quote currency into the account currency."
    )
    lot_step: Decimal = strawberry.field(description="Volumes must be a multiple of this (lots).")
    min_volume: Decimal = strawberry.field(description="Smallest volume accepted (lots).")
    max_volume: Decimal = strawberry.field(
        description="Largest volume accepted in one signal or trade (lots)."
    )
    mark_price: Decimal | None = strawberry.field(
        description=(
            "Latest mark price; null until marks are sent (positions are then valued at entry)."
        )
    )

    @classmethod
    def of(cls, i: Instrument) -> InstrumentView:
        return cls(
            symbol=i.symbol,
            correlation_group=i.correlation_group,
            contract_size=i.contract_size,
            quote_to_account_rate=i.quote_to_account_rate,
            lot_step=i.lot_step,
            min_volume=i.min_volume,
            max_volume=i.max_volume,
            mark_price=i.mark_price,
        )
