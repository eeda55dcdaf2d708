"""A risk decision: the answer to one signal check, as stored and as replayed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from domain.checks import CheckResult
from domain.exposure import ExposureReport
from domain.ledger import fingerprint_of
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
