"""Trade events: their identity for idempotency and the P&L a close realizes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from domain.errors import BadInput
from domain.instruments import Instrument, validate_volume
from domain.numbers import require_positive
from domain.positions import position_pnl
from domain.values import Direction


@dataclass(frozen=True, slots=True)
class TradeOpened:
    trade_id: str
    client_id: str
    signal_id: str | None
    symbol: str
    direction: Direction
    volume: Decimal
    entry_price: Decimal
    stop_loss: Decimal | None
    opened_at: datetime | None

    def fingerprint(self) -> str:
        """Identity of the payload as sent (an omitted time stays omitted)."""
        return fingerprint_of(
            self.client_id,
            self.signal_id,
            self.symbol,
            self.direction.value,
            self.volume,
            self.entry_price,
            self.stop_loss,
            self.opened_at,
        )


@dataclass(frozen=True, slots=True)
class TradeClosed:
    trade_id: str
    client_id: str
    exit_price: Decimal
    closed_at: datetime | None
    pnl: Decimal | None

    def fingerprint(self) -> str:
        return fingerprint_of(self.client_id, self.exit_price, self.closed_at, self.pnl)


def fingerprint_of(*parts: object) -> str:
    def canon(part: object) -> str:
        if part is None:
            return "~"
        if isinstance(part, Decimal):
            return format(part.normalize(), "f")
        if isinstance(part, datetime):
            return part.isoformat()
        return str(part)

    return hashlib.sha256("\x1f".join(canon(p) for p in parts).encode()).hexdigest()[:32]


def realized_pnl(
    direction: Direction,
    volume: Decimal,
    entry_price: Decimal,
    close: TradeClosed,
    instrument: Instrument,
) -> Decimal:
    """The broker-booked P&L when reported, else the price move at the exit."""
    if close.pnl is not None:
        return close.pnl
    return position_pnl(direction, volume, entry_price, close.exit_price, instrument)


def validate_open(event: TradeOpened, instrument: Instrument) -> TradeOpened:
    """An opened trade: volume on the instrument's lot grid, positive prices."""
    validate_volume(event.volume, instrument)
    require_positive(event.entry_price, field="entryPrice")
    if event.stop_loss is not None:
        require_positive(event.stop_loss, field="stopLoss")
    return event


def validate_trade_id(raw: str, *, field: str) -> str:
    if not raw or len(raw) > 128 or not raw.isprintable():
        raise BadInput(f"{field} must be 1-128 printable characters", field=field)
    return raw


class TradeStatus(StrEnum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"
    AWAITING_OPEN = "AWAITING_OPEN"  # its close arrived first and waits for the open


@dataclass(frozen=True, slots=True)
class TradeRecord:
    """A trade as the ledger knows it: the open, the close, or both."""

    trade_id: str
    client_id: str
    status: TradeStatus
    opened: TradeOpened | None
    opened_at: datetime | None
    closed: TradeClosed | None = None
    closed_at: datetime | None = None
    realized_pnl: Decimal | None = None


# Event clocks may drift a little; an event dated further ahead is a bad timestamp.
FUTURE_TOLERANCE = timedelta(minutes=5)


def validate_cash_flow_amount(amount: Decimal) -> Decimal:
    """A deposit is positive, a withdrawal negative; nothing moves no money."""
    if amount.is_zero():
        raise BadInput("amount must not be 0", field="amount")
    return amount


def event_time(at: datetime | None, now: datetime, *, field: str) -> datetime:
    """When an event happened: as reported, or now when omitted; never in the future."""
    if at is None:
        return now
    if at.tzinfo is None:
        raise BadInput(f"{field} must carry a time zone", field=field)
    if at > now + FUTURE_TOLERANCE:
        raise BadInput(f"{field} is in the future", field=field)
    return at
