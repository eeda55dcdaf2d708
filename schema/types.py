"""Output types: thin views that round for display and nothing else."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry

from domain.breakers import Alert
from domain.checks import Headroom, Violation
from domain.clients import ClientPage, encode_cursor
from domain.decisions import Decision
from domain.exposure import ClientExposure, ExposureReport, InstrumentExposure
from domain.instruments import Instrument
from domain.ledger import TradeRecord
from domain.limits import PlatformLimits
from domain.numbers import round2
from domain.profile import ClientCeilings, RiskLimits, RiskProfile
from domain.protections import Protections
from domain.sizing import PositionSizing
from resolvers.exposure import PlatformSnapshot
from schema.enums import AlertKind, AlertLevel, Direction, LimitCheck, TradeStatus, TradingMode


def _r(value: Decimal | None) -> Decimal | None:
    return None if value is None else round2(value)


def _limit_fields(limits: RiskLimits | ClientCeilings) -> dict[str, Any]:
    """The six limits as shown: percentages, lots and ratios to 2 decimals."""
    return {
        "max_drawdown_percent": round2(limits.max_drawdown_percent),
        "max_daily_loss": _r(limits.max_daily_loss),
        "max_position_size": round2(limits.max_position_size),
        "max_open_positions": limits.max_open_positions,
        "max_correlation_exposure": round2(limits.max_correlation_exposure),
        "risk_per_trade_percent": round2(limits.risk_per_trade_percent),
    }


def _protection_fields(p: Protections) -> dict[str, Any]:
    return {
        "max_leverage": _r(p.max_leverage),
        "max_weekly_loss": _r(p.max_weekly_loss),
        "loss_streak_limit": p.loss_streak_limit,
        "cooldown_minutes": p.cooldown_minutes,
        "max_signals_per_minute": p.max_signals_per_minute,
        "allowed_instruments": (
            None if p.allowed_instruments is None else list(p.allowed_instruments)
        ),
        "blocked_instruments": list(p.blocked_instruments),
        "stop_out_on_breach": p.stop_out_on_breach,
    }


@strawberry.type(
    name="RiskProfile",
    description=(
        "A client's risk limits, protections and trading mode. Created with the defaults the "
        "first time the client is seen."
    ),
)
class RiskProfileView:
    id: strawberry.ID = strawberry.field(description="Stable id of the profile row.")
    client_id: str = strawberry.field(description="The client this profile belongs to.")
    max_drawdown_percent: Decimal = strawberry.field(
        description=(
            "Drawdown limit, percent 1–100 (default 20.00). MAX_DRAWDOWN fails at or above it."
        )
    )
    max_daily_loss: Decimal | None = strawberry.field(
        description=(
            "Daily loss cap in the account currency (> 0); null means no cap and no MAX_DAILY_LOSS "
            "check."
        )
    )
    max_position_size: Decimal = strawberry.field(
        description="Largest volume of one signal, lots 0.01–100 on the 0.01 step (default 1.00)."
    )
    max_open_positions: int = strawberry.field(
        description="Most open positions plus active reservations, 1–1000 (default 5)."
    )
    max_correlation_exposure: Decimal = strawberry.field(
        description=(
            "Largest share of gross notional one correlation group may hold net, ratio 0.01–1.00 "
            "(default 0.70); 1.00 switches the check off."
        )
    )
    risk_per_trade_percent: Decimal = strawberry.field(
        description=(
            "Share of equity risked at the stop when a volume is sized, percent 0.10–10.00 "
            "(default 2.00)."
        )
    )
    trading_mode: TradingMode = strawberry.field(
        description="The client's own trading mode (the platform's applies as well)."
    )
    updated_at: datetime = strawberry.field(
        description="When the limits, protections or the mode last changed."
    )
    max_leverage: Decimal | None = strawberry.field(
        description="Maximum leverage (gross notional of positions and reservations over "
        "equity); null when off."
    )
    max_weekly_loss: Decimal | None = strawberry.field(
        description="Maximum loss over the trading week; null when off."
    )
    loss_streak_limit: int | None = strawberry.field(
        description="Losing closes in a row that start a cooldown; null when off."
    )
    cooldown_minutes: int = strawberry.field(
        description="Minutes without new trades after a losing streak of lossStreakLimit."
    )
    max_signals_per_minute: int | None = strawberry.field(
        description="Maximum reserving checks of the client per minute; null when off."
    )
    allowed_instruments: list[str] | None = strawberry.field(
        description="The only instruments the client may trade; null allows all."
    )
    blocked_instruments: list[str] = strawberry.field(
        description="Instruments the client may not trade."
    )
    stop_out_on_breach: bool = strawberry.field(
        description="Whether drawdown, daily loss or weekly loss reaching CRITICAL halts the "
        "client until its trading mode is set back."
    )

    @classmethod
    def of(cls, profile: RiskProfile) -> RiskProfileView:
        limits = profile.limits
        assert profile.updated_at is not None
        return cls(
            id=strawberry.ID(str(profile.id)),
            client_id=profile.client_id,
            **_limit_fields(limits),
            trading_mode=profile.trading_mode,
            updated_at=profile.updated_at,
            **_protection_fields(profile.protections),
        )


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


@strawberry.type(
    name="ClientCeilings",
    description=(
        "The most permissive value a client may set for each limit and protection of its own "
        "profile (admin-set). "
        "Service and admin callers are bound only by the allowed ranges."
    ),
)
class ClientCeilingsView:
    max_drawdown_percent: Decimal = strawberry.field(
        description="Highest maxDrawdownPercent a client may set."
    )
    max_daily_loss: Decimal | None = strawberry.field(
        description=(
            "Highest maxDailyLoss a client may set; null means no ceiling (a client may also clear "
            "its cap)."
        )
    )
    max_position_size: Decimal = strawberry.field(
        description="Highest maxPositionSize a client may set (lots)."
    )
    max_open_positions: int = strawberry.field(
        description="Highest maxOpenPositions a client may set."
    )
    max_correlation_exposure: Decimal = strawberry.field(
        description="Highest maxCorrelationExposure a client may set (ratio)."
    )
    risk_per_trade_percent: Decimal = strawberry.field(
        description="Highest riskPerTradePercent a client may set."
    )
    max_leverage: Decimal | None = strawberry.field(
        description="Highest leverage cap a client may set; null: a client may also switch it off."
    )
    max_weekly_loss: Decimal | None = strawberry.field(
        description="Highest weekly loss cap a client may set; null: a client may also "
        "switch it off."
    )
    loss_streak_limit: int | None = strawberry.field(
        description="Longest losing streak a client may allow before a cooldown; null: a "
        "client may also switch it off."
    )
    cooldown_minutes: int = strawberry.field(
        description="Shortest cooldown a client may set, in minutes."
    )
    max_signals_per_minute: int | None = strawberry.field(
        description="Highest signal rate a client may set; null: a client may also switch it off."
    )
    allowed_instruments: list[str] | None = strawberry.field(
        description="Instruments a client's allow list may name; null: any, and a client "
        "may allow all."
    )
    blocked_instruments: list[str] = strawberry.field(
        description="Instruments every client's block list must keep."
    )
    stop_out_on_breach: bool = strawberry.field(
        description="When true, a client may not switch its stop-out off."
    )

    @classmethod
    def of(cls, c: ClientCeilings) -> ClientCeilingsView:
        return cls(**_limit_fields(c), **_protection_fields(c.protections))


@strawberry.type(
    name="PlatformLimits",
    description=(
        "Platform-wide caps (circuit breakers), the platform trading mode and the client ceilings "
        "(admin)."
    ),
)
class PlatformLimitsView:
    max_total_exposure: Decimal = strawberry.field(
        description=(
            "Cap on platform notional incl. reservations (account currency; default 500000)."
        )
    )
    max_open_positions: int = strawberry.field(
        description="Cap on platform open positions plus reservations (default 50)."
    )
    max_position_size: Decimal = strawberry.field(
        description="Largest volume of any one signal, lots (default 100)."
    )
    max_daily_loss: Decimal = strawberry.field(
        description="Platform daily loss cap (account currency; default 50000)."
    )
    max_instrument_volume: Decimal = strawberry.field(
        description=(
            "Cap on platform lots per instrument, open plus reserved; 5 × maxPositionSize unless "
            "set."
        )
    )
    trading_mode: TradingMode = strawberry.field(
        description="The platform's trading mode (the kill switch)."
    )
    client_ceilings: ClientCeilingsView = strawberry.field(
        description="What clients may set on their own profiles."
    )
    updated_at: datetime = strawberry.field(description="When the limits last changed.")

    @classmethod
    def of(cls, limits: PlatformLimits, updated_at: datetime) -> PlatformLimitsView:
        return cls(
            max_total_exposure=round2(limits.max_total_exposure),
            max_open_positions=limits.max_open_positions,
            max_position_size=round2(limits.max_position_size),
            max_daily_loss=round2(limits.max_daily_loss),
            max_instrument_volume=round2(limits.instrument_volume_cap),
            trading_mode=limits.trading_mode,
            client_ceilings=ClientCeilingsView.of(limits.client_ceilings),
            updated_at=updated_at,
        )


@strawberry.type(
    name="Violation", description="A failed check: what was compared and why it failed."
)
class ViolationView:
    check: LimitCheck = strawberry.field(description="The check that failed.")
    limit: Decimal = strawberry.field(
        description=(
            "The limit compared against (units of the check: money, lots, percent, ratio or count)."
        )
    )
    current: Decimal = strawberry.field(
        description=(
            "The value compared with the limit, the signal counted where the check counts it."
        )
    )
    message: str = strawberry.field(description="Human-readable reason.")

    @classmethod
    def of(cls, v: Violation) -> ViolationView:
        return cls(
            check=v.check, limit=round2(v.limit), current=round2(v.current), message=v.message
        )


@strawberry.type(
    name="Headroom",
    description=(
        "Room left under one finite limit before the signal; no row for a check that is off or "
        "uncapped."
    ),
)
class HeadroomView:
    check: LimitCheck = strawberry.field(description="The check.")
    limit: Decimal = strawberry.field(description="The limit.")
    used: Decimal = strawberry.field(
        description="Usage before the signal (0 for the per-signal size checks)."
    )
    remaining: Decimal = strawberry.field(
        description="max(limit − used, 0): for the size checks, the largest volume allowed."
    )

    @classmethod
    def all_of(cls, rows: tuple[Headroom, ...]) -> list[HeadroomView]:
        """Checks with no cap (no daily-loss limit, correlation off) have no headroom row."""
        return [
            cls(
                check=h.check,
                limit=round2(h.limit),
                used=round2(h.used),
                remaining=round2(h.remaining),
            )
            for h in rows
            if h.limit is not None and h.remaining is not None
        ]


@strawberry.type(
    name="RiskCheck",
    description=(
        "The decision on one signal: passes or not, every violation, the headroom, and the "
        "client's exposure and profile as they were when it was decided."
    ),
)
class RiskCheckView:
    signal_id: str = strawberry.field(description="The signal's id (idempotency key).")
    client_id: str = strawberry.field(description="The client the signal was checked for.")
    passes: bool = strawberry.field(
        description=(
            "True when no check failed. A passing reserving check holds a reservation until "
            "reservationExpiresAt."
        )
    )
    volume: Decimal = strawberry.field(
        description=(
            "The volume checked (lots): the one sent, or the sized one when volume was omitted; "
            "with fit, the approved volume."
        )
    )
    notional: Decimal = strawberry.field(
        description="The signal's notional at its entry price (account currency)."
    )
    _decision: strawberry.Private[Decision]

    # The other fields are built only when selected: a batch answers thousands of checks
    # and callers mostly select a few scalars.
    @strawberry.field(description="Every failing check; empty when passes.")
    def violations(self) -> list[ViolationView]:
        return [ViolationView.of(v) for v in self._decision.result.violations]

    @strawberry.field(description="Room left under each finite limit, before the signal.")
    def headroom(self) -> list[HeadroomView]:
        return HeadroomView.all_of(self._decision.result.headroom)

    @strawberry.field(
        description=(
            "The client's exposure when decided (with the new reservation when one was taken)."
        )
    )
    def exposure(self) -> ExposureView:
        return ExposureView.of(self._decision.exposure)

    @strawberry.field(description="The client's profile used for the decision.")
    def profile(self) -> RiskProfileView:
        return RiskProfileView.of(self._decision.profile)

    @strawberry.field(
        description="Id of the stored decision; null for a dry run (nothing is stored)."
    )
    def decision_id(self) -> strawberry.ID | None:
        found = self._decision.decision_id
        return None if found is None else strawberry.ID(str(found))

    @strawberry.field(
        description=(
            "When the reservation lapses if no trade consumes it and it is not released; null when "
            "nothing was reserved (failed check or dry run)."
        )
    )
    def reservation_expires_at(self) -> datetime | None:
        return self._decision.reservation_expires_at

    @strawberry.field(description="When the decision was taken (a replay returns the first one's).")
    def checked_at(self) -> datetime:
        return self._decision.checked_at

    @strawberry.field(
        description=(
            "The volume asked for, or sized from the stop when none was given. With fit it"
            " may be above the approved `volume`."
        )
    )
    def requested_volume(self) -> Decimal:
        return round2(self._decision.requested)

    @strawberry.field(
        description=(
            "The checks that bound a fitted volume: each failed at the requested volume and"
            " fails one lot step above the approved one. Empty when the volume was not reduced."
        )
    )
    def fitted_by(self) -> list[LimitCheck]:
        return list(self._decision.fitted_by)

    @classmethod
    def of(cls, d: Decision) -> RiskCheckView:
        return cls(
            signal_id=d.signal_id,
            client_id=d.client_id,
            passes=d.result.passes,
            volume=round2(d.result.volume),
            notional=round2(d.result.notional),
            _decision=d,
        )


@strawberry.type(
    name="PositionSize",
    description="A volume sized to risk the profile's riskPerTradePercent of equity at the stop.",
)
class PositionSizeView:
    volume: Decimal = strawberry.field(
        description=(
            "Sized volume in lots: rounded down to the lot step, then clamped to the allowed range."
        )
    )
    risk_amount: Decimal = strawberry.field(
        description=(
            "Money meant to be risked: equity × riskPerTradePercent / 100 (account currency)."
        )
    )
    risk_at_stop: Decimal = strawberry.field(
        description="Money lost at the stop with the returned volume (account currency)."
    )
    equity: Decimal = strawberry.field(description="The client's equity used for sizing.")
    clamped_by: str | None = strawberry.field(
        description=(
            "The bound that replaced the computed volume (MIN_VOLUME, MAX_POSITION_SIZE, "
            "PLATFORM_POSITION_SIZE, INSTRUMENT_MAX_VOLUME); null when it fit."
        )
    )

    @classmethod
    def of(cls, p: PositionSizing) -> PositionSizeView:
        return cls(
            volume=round2(p.volume),
            risk_amount=round2(p.risk_amount),
            risk_at_stop=round2(p.risk_at_stop),
            equity=round2(p.equity),
            clamped_by=p.clamped_by,
        )


@strawberry.type(
    name="BreakerAlert",
    description=(
        "A breaker changed level, or a trading mode changed. Raised on a change of level only, "
        "stored, and pushed to subscribers."
    ),
)
class BreakerAlertView:
    id: strawberry.ID = strawberry.field(description="Stable alert id (increasing).")
    client_id: str | None = strawberry.field(
        description="The client; null for a platform breaker or a platform mode change."
    )
    kind: AlertKind = strawberry.field(description="Which breaker.")
    level: AlertLevel = strawberry.field(description="The new level.")
    previous_level: AlertLevel = strawberry.field(description="The level before.")
    value: Decimal = strawberry.field(
        description=(
            "The reading that crossed a threshold (percent for drawdown, else account currency); 0 "
            "for a mode change."
        )
    )
    limit: Decimal = strawberry.field(
        description=(
            "The limit it is measured against; 0 for a mode change or a removed daily loss cap."
        )
    )
    message: str = strawberry.field(
        description="Human-readable description, with the reason for a mode change."
    )
    created_at: datetime = strawberry.field(description="When the alert was raised.")

    @classmethod
    def of(cls, alert: Alert) -> BreakerAlertView:
        return cls(
            id=strawberry.ID(str(alert.id)),
            client_id=alert.client_id,
            kind=AlertKind(alert.kind),
            level=alert.level,
            previous_level=alert.previous_level,
            value=round2(alert.value),
            limit=round2(alert.limit),
            message=alert.message,
            created_at=alert.created_at,
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
