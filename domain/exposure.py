"""Exposure of a book (one client or the whole platform) from its running sums."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from domain.equity import AccountState, daily_pnl, drawdown_percent
from domain.instruments import Instrument
from domain.numbers import ZERO, percent
from domain.positions import PositionBook, book_notional, book_unrealized
from domain.values import Direction


@dataclass(frozen=True, slots=True)
class Reservation:
    """Capacity held for an approved signal until its trade opens, it is released or expires."""

    signal_id: str
    client_id: str
    symbol: str
    direction: Direction
    volume: Decimal
    notional: Decimal
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class InstrumentExposure:
    symbol: str
    volume: Decimal
    exposure: Decimal


@dataclass(frozen=True, slots=True)
class BookTotals:
    gross: Decimal
    by_instrument: tuple[InstrumentExposure, ...]
    by_direction: Mapping[Direction, Decimal]
    open_positions: int
    unrealized: Decimal


@dataclass(frozen=True, slots=True)
class ClientExposure:
    client_id: str
    totals: BookTotals
    reserved_positions: int
    reserved_exposure: Decimal
    account: AccountState
    equity: Decimal
    drawdown_percent: Decimal
    daily_pnl: Decimal


def book_totals(books: Iterable[PositionBook], catalog: Mapping[str, Instrument]) -> BookTotals:
    """Gross sums by instrument and direction at the latest marks."""
    by_symbol: dict[str, tuple[Decimal, Decimal]] = {}
    by_direction = {Direction.BUY: ZERO, Direction.SELL: ZERO}
    count = 0
    unrealized = ZERO
    for book in books:
        if book.count <= 0:
            continue
        instrument = catalog[book.symbol]
        value = book_notional(book, instrument)
        volume, exposure = by_symbol.get(book.symbol, (ZERO, ZERO))
        by_symbol[book.symbol] = (volume + book.volume, exposure + value)
        by_direction[book.direction] += value
        count += book.count
        unrealized += book_unrealized(book, instrument)
    rows = tuple(InstrumentExposure(s, v, e) for s, (v, e) in sorted(by_symbol.items()))
    return BookTotals(
        gross=sum((r.exposure for r in rows), ZERO),
        by_instrument=rows,
        by_direction=by_direction,
        open_positions=count,
        unrealized=unrealized,
    )


def client_exposure(
    client_id: str,
    books: Iterable[PositionBook],
    catalog: Mapping[str, Instrument],
    account: AccountState,
    reservations: Iterable[Reservation],
    realized_today: Decimal,
) -> ClientExposure:
    """Everything the exposure view and the limit checks need for one client."""
    totals = book_totals(books, catalog)
    held = list(reservations)
    equity = account.equity(totals.unrealized)
    return ClientExposure(
        client_id=client_id,
        totals=totals,
        reserved_positions=len(held),
        reserved_exposure=sum((r.notional for r in held), ZERO),
        account=account,
        equity=equity,
        drawdown_percent=drawdown_percent(account.peak_equity, equity),
        daily_pnl=daily_pnl(totals.unrealized, realized_today),
    )


@dataclass(frozen=True, slots=True)
class PlatformExposure:
    totals: BookTotals
    reserved_positions: int
    reserved_exposure: Decimal
    daily_pnl: Decimal
    exposure_utilization_percent: Decimal
    positions_utilization_percent: Decimal


def platform_exposure(
    totals: BookTotals,
    reserved_positions: int,
    reserved_exposure: Decimal,
    realized_today: Decimal,
    max_total_exposure: Decimal,
    max_open_positions: int,
) -> PlatformExposure:
    """Platform sums; utilization counts reservations as the limits do."""
    return with_reserved(
        PlatformExposure(totals, 0, ZERO, daily_pnl(totals.unrealized, realized_today), ZERO, ZERO),
        reserved_positions,
        reserved_exposure,
        max_total_exposure,
        max_open_positions,
    )


def with_reserved(
    exposure: PlatformExposure,
    reserved_positions: int,
    reserved_exposure: Decimal,
    max_total_exposure: Decimal,
    max_open_positions: int,
) -> PlatformExposure:
    """The platform sums with these reservations counted, utilization included."""
    used_exposure = exposure.totals.gross + reserved_exposure
    used_positions = Decimal(exposure.totals.open_positions + reserved_positions)
    return replace(
        exposure,
        reserved_positions=reserved_positions,
        reserved_exposure=reserved_exposure,
        exposure_utilization_percent=percent(used_exposure, max_total_exposure),
        positions_utilization_percent=percent(used_positions, Decimal(max_open_positions)),
    )


@dataclass(frozen=True, slots=True)
class ExposureReport:
    """A client's exposure at one instant: the live view and each stored snapshot."""

    client_id: str
    taken_at: datetime
    total_exposure: Decimal
    by_instrument: tuple[InstrumentExposure, ...]
    by_direction: tuple[tuple[Direction, Decimal], ...]
    open_positions: int
    reserved_positions: int
    reserved_exposure: Decimal
    equity: Decimal
    drawdown_percent: Decimal
    daily_pnl: Decimal


def exposure_report(exposure: ClientExposure, at: datetime) -> ExposureReport:
    totals = exposure.totals
    return ExposureReport(
        client_id=exposure.client_id,
        taken_at=at,
        total_exposure=totals.gross,
        by_instrument=totals.by_instrument,
        by_direction=tuple((d, totals.by_direction[d]) for d in Direction),
        open_positions=totals.open_positions,
        reserved_positions=exposure.reserved_positions,
        reserved_exposure=exposure.reserved_exposure,
        equity=exposure.equity,
        drawdown_percent=exposure.drawdown_percent,
        daily_pnl=exposure.daily_pnl,
    )


def with_reservation(exposure: ClientExposure, held: Reservation) -> ClientExposure:
    """The client's exposure once a new reservation counts."""
    return replace(
        exposure,
        reserved_positions=exposure.reserved_positions + 1,
        reserved_exposure=exposure.reserved_exposure + held.notional,
    )
