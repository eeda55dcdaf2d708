"""Output types: thin views that round for display and nothing else."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry

from domain.breakers import Alert
from domain.checks import Headroom, Violation
from domain.decisions import Decision
from domain.exposure import ClientExposure, ExposureReport, InstrumentExposure
from domain.instruments import Instrument
from domain.ledger import TradeRecord
from domain.limits import PlatformLimits
from domain.numbers import round2
from domain.profile import ClientCeilings, RiskLimits, RiskProfile
from domain.sizing import PositionSizing
from resolvers.exposure import PlatformSnapshot
from schema.enums import AlertLevel, Direction, LimitCheck, TradeStatus, TradingMode


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


@strawberry.type(name="RiskProfile")
class RiskProfileView:
    id: strawberry.ID
    client_id: str
    max_drawdown_percent: Decimal
    max_daily_loss: Decimal | None
    max_position_size: Decimal
    max_open_positions: int
    max_correlation_exposure: Decimal
    risk_per_trade_percent: Decimal
    trading_mode: TradingMode
    updated_at: datetime

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
        )


@strawberry.type(name="InstrumentExposure")
class InstrumentExposureView:
    instrument: str
    volume: Decimal
    exposure: Decimal

    @classmethod
    def of(cls, row: InstrumentExposure) -> InstrumentExposureView:
        return cls(instrument=row.symbol, volume=round2(row.volume), exposure=round2(row.exposure))


@strawberry.type(name="DirectionExposure")
class DirectionExposureView:
    direction: Direction
    exposure: Decimal


@strawberry.type(name="Exposure")
class ExposureView:
    client_id: str
    timestamp: datetime
    total_exposure: Decimal
    by_instrument: list[InstrumentExposureView]
    by_direction: list[DirectionExposureView]
    open_positions_count: int
    reserved_positions_count: int
    reserved_exposure: Decimal
    equity: Decimal
    current_drawdown_percent: Decimal
    daily_pnl: Decimal

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


@strawberry.type(name="GlobalExposure")
class GlobalExposureView:
    timestamp: datetime
    total_platform_exposure: Decimal
    total_open_positions: int
    reserved_positions: int
    reserved_exposure: Decimal
    max_exposure_limit: Decimal
    max_positions_limit: int
    exposure_utilization_percent: Decimal
    positions_utilization_percent: Decimal
    daily_platform_pnl: Decimal
    max_daily_loss: Decimal
    trading_mode: TradingMode
    by_instrument: list[InstrumentExposureView]

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


@strawberry.type(name="Trade")
class TradeView:
    trade_id: str
    client_id: str
    status: TradeStatus
    signal_id: str | None
    instrument: str | None
    direction: Direction | None
    volume: Decimal | None
    entry_price: Decimal | None
    stop_loss: Decimal | None
    opened_at: datetime | None
    exit_price: Decimal | None
    closed_at: datetime | None
    realized_pnl: Decimal | None

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


@strawberry.type(name="Account")
class AccountView:
    client_id: str
    balance: Decimal
    equity: Decimal
    peak_equity: Decimal
    current_drawdown_percent: Decimal
    net_cash_flows: Decimal
    realized_pnl: Decimal
    open_positions_count: int

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


@strawberry.type(name="Instrument")
class InstrumentView:
    symbol: str
    correlation_group: str
    contract_size: Decimal
    quote_to_account_rate: Decimal
    lot_step: Decimal
    min_volume: Decimal
    max_volume: Decimal
    mark_price: Decimal | None

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


@strawberry.type(name="ClientCeilings")
class ClientCeilingsView:
    max_drawdown_percent: Decimal
    max_daily_loss: Decimal | None
    max_position_size: Decimal
    max_open_positions: int
    max_correlation_exposure: Decimal
    risk_per_trade_percent: Decimal

    @classmethod
    def of(cls, c: ClientCeilings) -> ClientCeilingsView:
        return cls(**_limit_fields(c))


@strawberry.type(name="PlatformLimits")
class PlatformLimitsView:
    max_total_exposure: Decimal
    max_open_positions: int
    max_position_size: Decimal
    max_daily_loss: Decimal
    max_instrument_volume: Decimal
    trading_mode: TradingMode
    client_ceilings: ClientCeilingsView
    updated_at: datetime

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


@strawberry.type(name="Violation")
class ViolationView:
    check: LimitCheck
    limit: Decimal
    current: Decimal
    message: str

    @classmethod
    def of(cls, v: Violation) -> ViolationView:
        return cls(
            check=v.check, limit=round2(v.limit), current=round2(v.current), message=v.message
        )


@strawberry.type(name="Headroom")
class HeadroomView:
    check: LimitCheck
    limit: Decimal
    used: Decimal
    remaining: Decimal

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


@strawberry.type(name="RiskCheck")
class RiskCheckView:
    signal_id: str
    client_id: str
    passes: bool
    volume: Decimal
    notional: Decimal
    _decision: strawberry.Private[Decision]

    # The other fields are built only when selected: a batch answers thousands of checks
    # and callers mostly select a few scalars.
    @strawberry.field
    def violations(self) -> list[ViolationView]:
        return [ViolationView.of(v) for v in self._decision.result.violations]

    @strawberry.field
    def headroom(self) -> list[HeadroomView]:
        return HeadroomView.all_of(self._decision.result.headroom)

    @strawberry.field
    def exposure(self) -> ExposureView:
        return ExposureView.of(self._decision.exposure)

    @strawberry.field
    def profile(self) -> RiskProfileView:
        return RiskProfileView.of(self._decision.profile)

    @strawberry.field
    def decision_id(self) -> strawberry.ID | None:
        found = self._decision.decision_id
        return None if found is None else strawberry.ID(str(found))

    @strawberry.field
    def reservation_expires_at(self) -> datetime | None:
        return self._decision.reservation_expires_at

    @strawberry.field
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


@strawberry.type(name="PositionSize")
class PositionSizeView:
    volume: Decimal
    risk_amount: Decimal
    risk_at_stop: Decimal
    equity: Decimal
    clamped_by: str | None

    @classmethod
    def of(cls, p: PositionSizing) -> PositionSizeView:
        return cls(
            volume=round2(p.volume),
            risk_amount=round2(p.risk_amount),
            risk_at_stop=round2(p.risk_at_stop),
            equity=round2(p.equity),
            clamped_by=p.clamped_by,
        )


@strawberry.type(name="BreakerAlert")
class BreakerAlertView:
    id: strawberry.ID
    client_id: str | None
    kind: str
    level: AlertLevel
    previous_level: AlertLevel
    value: Decimal
    limit: Decimal
    message: str
    created_at: datetime

    @classmethod
    def of(cls, alert: Alert) -> BreakerAlertView:
        return cls(
            id=strawberry.ID(str(alert.id)),
            client_id=alert.client_id,
            kind=alert.kind,
            level=alert.level,
            previous_level=alert.previous_level,
            value=round2(alert.value),
            limit=round2(alert.limit),
            message=alert.message,
            created_at=alert.created_at,
        )
