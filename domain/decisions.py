"""A risk decision: the answer to one signal check, as stored and as replayed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from domain.checks import CheckResult, LimitCheck
from domain.errors import BadInput
from domain.exposure import ExposureReport
from domain.instruments import normalize_symbol
from domain.ledger import fingerprint_of, validate_trade_id
from domain.numbers import require_positive
from domain.profile import RiskProfile
from domain.values import Direction


@dataclass(frozen=True, slots=True)
class SignalRequest:
    """A signal as the caller sent it; `volume` None asks for sizing from the stop."""

    signal_id: str
    client_id: str
    symbol: str
    direction: Direction
    volume: Decimal | None
    entry_price: Decimal
    stop_loss: Decimal | None

    def fingerprint(self) -> str:
        """Identity of the payload: the same signal id with another payload is a conflict."""
        return fingerprint_of(
            self.client_id,
            self.symbol,
            self.direction.value,
            self.volume,
            self.entry_price,
            self.stop_loss,
        )


def validate_signal(request: SignalRequest) -> SignalRequest:
    """Ids and prices well-formed, a stop when sizing is asked for; symbol normalized."""
    validate_trade_id(request.signal_id, field="signalId")
    require_positive(request.entry_price, field="entryPrice")
    if request.stop_loss is not None:
        require_positive(request.stop_loss, field="stopLoss")
    if request.volume is None and request.stop_loss is None:
        raise BadInput("stopLoss is required when volume is omitted (sizing)", field="stopLoss")
    return replace(request, symbol=normalize_symbol(request.symbol))


@dataclass(frozen=True, slots=True)
class Decision:
    signal_id: str
    client_id: str
    result: CheckResult
    exposure: ExposureReport
    profile: RiskProfile
    checked_at: datetime
    decision_id: int | None = None
    reservation_expires_at: datetime | None = None
    # The volume asked for (or sized) before any fit; None means the decided volume.
    requested_volume: Decimal | None = None
    # The checks that bound a fitted volume; empty unless the volume was reduced.
    fitted_by: tuple[LimitCheck, ...] = ()

    @property
    def requested(self) -> Decimal:
        return self.result.volume if self.requested_volume is None else self.requested_volume
