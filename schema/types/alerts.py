"""The breaker alert view."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from domain.breakers import Alert
from domain.numbers import round2
from schema.enums import AlertKind, AlertLevel


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
