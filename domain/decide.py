"""Deciding one signal from state already loaded: shared by single and batch checks.

Nothing here reads or writes the database; the callers load the state (one signal's, or a
whole batch's set-based) and store what comes out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal

from domain.checks import ClaimRoom, ClientState, Signal, claim_room, evaluate, platform_state
from domain.current import ClientSnapshot, PlatformSnapshot
from domain.decisions import Decision, SignalRequest
from domain.exposure import Reservation, exposure_report, with_reservation
from domain.fit import fit_signal, unfitted
from domain.instruments import Instrument, notional, validate_volume
from domain.limits import PlatformLimits
from domain.profile import RiskProfile
from domain.protections import NO_GUARDS, GuardState
from domain.sizing import PositionSizing, size_position


def sizing(
    request: SignalRequest,
    instrument: Instrument,
    profile: RiskProfile,
    limits: PlatformLimits,
    equity: Decimal,
) -> PositionSizing:
    assert request.stop_loss is not None
    return size_position(
        equity=equity,
        risk_per_trade_percent=profile.limits.risk_per_trade_percent,
        entry_price=request.entry_price,
        stop_loss=request.stop_loss,
        instrument=instrument,
        max_position_size=profile.limits.max_position_size,
        platform_max_position_size=limits.max_position_size,
    )


def assess(
    request: SignalRequest,
    instrument: Instrument,
    profile: RiskProfile,
    limits: PlatformLimits,
    client: ClientSnapshot,
    platform: PlatformSnapshot,
    catalog: Mapping[str, Instrument],
    now: datetime,
    *,
    guards: GuardState = NO_GUARDS,
    fit: bool = False,
    hold_for: timedelta | None = None,
) -> tuple[Decision, Reservation | None]:
    """Size (when no volume is given), evaluate every rule and, with `fit`, fit the volume.

    With `hold_for` (a reserving check), a passing decision holds a reservation for that
    long, and its exposure shows the client with it. `catalog` covers the symbols of the
    client's books and reservations and the signal's.
    """
    volume = request.volume
    if volume is None:
        volume = sizing(request, instrument, profile, limits, client.exposure.equity).volume
    validate_volume(volume, instrument)
    signal = Signal(
        request.signal_id,
        request.client_id,
        request.symbol,
        request.direction,
        volume,
        request.entry_price,
        request.stop_loss,
    )
    state = ClientState(client.exposure, client.books, client.reservations, catalog)
    on_platform = platform_state(
        platform.exposure, limits, platform.reserved_volume, request.symbol
    )
    if fit:
        fitted = fit_signal(signal, instrument, profile, state, on_platform, guards)
    else:
        fitted = unfitted(evaluate(signal, instrument, profile, state, on_platform, guards))
    result = fitted.result
    held = None
    exposure = client.exposure
    if hold_for is not None and result.passes:
        held = Reservation(
            request.signal_id,
            request.client_id,
            request.symbol,
            request.direction,
            result.volume,
            notional(result.volume, request.entry_price, instrument),
            now + hold_for,
        )
        exposure = with_reservation(exposure, held)
    decision = Decision(
        signal_id=request.signal_id,
        client_id=request.client_id,
        result=result,
        exposure=exposure_report(exposure, now),
        profile=profile,
        checked_at=now,
        reservation_expires_at=held.expires_at if held is not None else None,
        requested_volume=fitted.requested_volume,
        fitted_by=fitted.fitted_by,
    )
    return decision, held


def room_left(platform: PlatformSnapshot, held: Reservation) -> ClaimRoom:
    """The room a passing decision leaves on the platform it was made against."""
    on_platform = platform_state(
        platform.exposure, platform.limits, platform.reserved_volume, held.symbol
    )
    return claim_room(on_platform, held.volume, held.notional)
