"""Views of exposure: per client, by instrument and direction, the platform's, a page of clients."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from domain.clients import ClientPage, encode_cursor
from domain.current import PlatformSnapshot
from domain.exposure import ExposureReport, InstrumentExposure
from domain.numbers import round2
from schema.enums import Direction, TradingMode


@strawberry.type(
    name="InstrumentExposure",
    description="Open positions on one instrument (reservations not included).",
)
class InstrumentExposureView:
    instrument: str = strawberry.field(description="Instrument symbol.")
    volume: Decimal = strawberry.field(description="Open lots, both directions added.")
    exposure: Decimal = strawberry.field(
        description=(
            "Gross notional in the account currency: volume × contract size × price × "
            "quote-to-account rate, at the mark when known, else at entry."
        )
    )

    @classmethod
    def of(cls, row: InstrumentExposure) -> InstrumentExposureView:
        return cls(instrument=row.symbol, volume=round2(row.volume), exposure=round2(row.exposure))


@strawberry.type(
    name="DirectionExposure", description="Gross notional of the open positions on one side."
)
class DirectionExposureView:
    direction: Direction = strawberry.field(description="The side.")
    exposure: Decimal = strawberry.field(
        description="Gross notional of that side in the account currency."
    )


@strawberry.type(
    name="Exposure",
    description=(
        "A client's exposure at one instant: open positions at the latest marks, reservations "
        "counted apart, equity, drawdown and daily P&L. Money in the account currency."
    ),
)
class ExposureView:
    client_id: str = strawberry.field(description="The client.")
    timestamp: datetime = strawberry.field(description="When these figures were taken.")
    total_exposure: Decimal = strawberry.field(
        description=(
            "Gross notional of the open positions (account currency); reservations are in "
            "reservedExposure."
        )
    )
    by_instrument: list[InstrumentExposureView] = strawberry.field(
        description="Open positions per instrument, sorted by symbol."
    )
    by_direction: list[DirectionExposureView] = strawberry.field(
        description="Gross notional per side (always both sides)."
    )
    open_positions_count: int = strawberry.field(description="Open positions.")
    reserved_positions_count: int = strawberry.field(
        description=(
            "Active reservations: approved signals not yet opened, released or expired. They count "
            "like open positions in every limit."
        )
    )
    reserved_exposure: Decimal = strawberry.field(
        description=(
            "Notional held by active reservations (account currency), at each signal's entry price."
        )
    )
    equity: Decimal = strawberry.field(
        description=(
            "Balance + unrealized P&L of open positions at the latest marks (account currency)."
        )
    )
    current_drawdown_percent: Decimal = strawberry.field(
        description="(peak equity − equity) / peak equity × 100; 0 with no positive peak."
    )
    daily_pnl: Decimal = strawberry.field(
        description=(
            "Equity − balance at the start of the trading day − net cash flows since (account "
            "currency); negative is a loss."
        )
    )

    @classmethod
    def of(cls, report: ExposureReport) -> ExposureView:
        return cls(
            client_id=report.client_id,
            timestamp=report.taken_at,
            total_exposure=round2(report.total_exposure),
            by_instrument=[InstrumentExposureView.of(r) for r in report.by_instrument],
            by_direction=[
                DirectionExposureView(direction=d, exposure=round2(v))
                for d, v in report.by_direction
            ],
            open_positions_count=report.open_positions,
            reserved_positions_count=report.reserved_positions,
            reserved_exposure=round2(report.reserved_exposure),
            equity=round2(report.equity),
            current_drawdown_percent=round2(report.drawdown_percent),
            daily_pnl=round2(report.daily_pnl),
        )


@strawberry.type(
    name="GlobalExposure",
    description=(
        "Platform-wide exposure, limits and utilization (admin). Money in the account currency."
    ),
)
class GlobalExposureView:
    timestamp: datetime = strawberry.field(description="When these figures were taken.")
    total_platform_exposure: Decimal = strawberry.field(
        description=(
            "Gross notional of every open position (account currency); reservations are in "
            "reservedExposure."
        )
    )
    total_open_positions: int = strawberry.field(description="Open positions across all clients.")
    reserved_positions: int = strawberry.field(
        description="Active reservations across all clients."
    )
    reserved_exposure: Decimal = strawberry.field(
        description="Notional held by active reservations (account currency)."
    )
    max_exposure_limit: Decimal = strawberry.field(
        description="The platform's maxTotalExposure (account currency)."
    )
    max_positions_limit: int = strawberry.field(description="The platform's maxOpenPositions.")
    exposure_utilization_percent: Decimal = strawberry.field(
        description="(open + reserved notional) / maxTotalExposure × 100."
    )
    positions_utilization_percent: Decimal = strawberry.field(
        description="(open positions + reservations) / maxOpenPositions × 100."
    )
    daily_platform_pnl: Decimal = strawberry.field(
        description="Sum of the clients' daily P&L (account currency); negative is a loss."
    )
    max_daily_loss: Decimal = strawberry.field(
        description="The platform's daily loss cap (account currency)."
    )
    trading_mode: TradingMode = strawberry.field(description="The platform's trading mode.")
    by_instrument: list[InstrumentExposureView] = strawberry.field(
        description="Open positions per instrument across all clients, sorted by symbol."
    )

    @classmethod
    def of(cls, snapshot: PlatformSnapshot, at: datetime) -> GlobalExposureView:
        exposure, limits = snapshot.exposure, snapshot.limits
        return cls(
            timestamp=at,
            total_platform_exposure=round2(exposure.totals.gross),
            total_open_positions=exposure.totals.open_positions,
            reserved_positions=exposure.reserved_positions,
            reserved_exposure=round2(exposure.reserved_exposure),
            max_exposure_limit=round2(limits.max_total_exposure),
            max_positions_limit=limits.max_open_positions,
            exposure_utilization_percent=round2(exposure.exposure_utilization_percent),
            positions_utilization_percent=round2(exposure.positions_utilization_percent),
            daily_platform_pnl=round2(exposure.daily_pnl),
            max_daily_loss=round2(limits.max_daily_loss),
            trading_mode=limits.trading_mode,
            by_instrument=[InstrumentExposureView.of(r) for r in exposure.totals.by_instrument],
        )


@strawberry.type(
    name="ClientPage",
    description="One page of the clients overview, in the order asked for.",
)
class ClientPageView:
    items: list[ExposureView] = strawberry.field(
        description="The clients of this page with their current exposure figures."
    )
    next_cursor: str | None = strawberry.field(
        description="Pass as `after` for the next page; null on the last page."
    )

    @classmethod
    def of(cls, page: ClientPage) -> ClientPageView:
        cursor = page.next_cursor
        return cls(
            items=[ExposureView.of(r) for r in page.items],
            next_cursor=None if cursor is None else encode_cursor(cursor),
        )
