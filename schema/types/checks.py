"""Views of a risk check: violations, headroom, the decision, and position sizing."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from domain.checks import Headroom, Violation
from domain.decisions import Decision
from domain.numbers import round2
from domain.sizing import PositionSizing
from schema.enums import LimitCheck
from schema.types.exposure import ExposureView
from schema.types.profiles import RiskProfileView


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
