"""Circuit breakers: levels from readings, alerts on a change of level, who sees which alert.

Client drawdown, daily loss and weekly loss warn at 80 % of the client's limit and are critical at
100 %; platform exposure and platform daily loss warn at 90 % and are critical at 100 %. A
breaker raises an alert only when its level changes; a trading-mode change is an alert of its
own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from domain.access import Caller
from domain.errors import Forbidden
from domain.exposure import PlatformExposure
from domain.limits import PlatformLimits
from domain.numbers import ZERO, loss_of, round2
from domain.profile import RiskLimits, validate_client_id
from domain.values import AlertLevel, TradingMode

CLIENT_WARNING_RATIO = Decimal("0.80")
PLATFORM_WARNING_RATIO = Decimal("0.90")
PLATFORM_SCOPE = "platform"


class BreakerKind(StrEnum):
    CLIENT_DRAWDOWN = "CLIENT_DRAWDOWN"
    CLIENT_DAILY_LOSS = "CLIENT_DAILY_LOSS"
    CLIENT_WEEKLY_LOSS = "CLIENT_WEEKLY_LOSS"
    PLATFORM_EXPOSURE = "PLATFORM_EXPOSURE"
    PLATFORM_DAILY_LOSS = "PLATFORM_DAILY_LOSS"
    TRADING_MODE = "TRADING_MODE"


SEVERITY = {AlertLevel.OK: 0, AlertLevel.WARNING: 1, AlertLevel.CRITICAL: 2}


def client_scope_key(client_id: str) -> str:
    """The breaker scope of one client (breaker states are keyed by scope and kind)."""
    return f"client:{client_id}"


def scope_key(client_id: str | None) -> str:
    return PLATFORM_SCOPE if client_id is None else client_scope_key(client_id)


def level_of(value: Decimal, limit: Decimal | None, warning_ratio: Decimal) -> AlertLevel:
    """CRITICAL at or above the limit, WARNING at or above `warning_ratio` of it, else OK.

    No limit (or a non-positive one) means the breaker is off: OK.
    """
    if limit is None or limit <= 0:
        return AlertLevel.OK
    if value >= limit:
        return AlertLevel.CRITICAL
    if value >= limit * warning_ratio:
        return AlertLevel.WARNING
    return AlertLevel.OK


@dataclass(frozen=True, slots=True)
class Reading:
    """One breaker measured now: its value against its limit and the level that gives."""

    kind: BreakerKind
    client_id: str | None
    value: Decimal
    limit: Decimal
    level: AlertLevel

    @property
    def scope(self) -> str:
        return scope_key(self.client_id)

    @property
    def key(self) -> tuple[str, str]:
        return (self.scope, self.kind.value)


def client_readings(
    client_id: str, *, drawdown_percent: Decimal, daily_pnl: Decimal, limits: RiskLimits
) -> tuple[Reading, Reading]:
    """Drawdown against maxDrawdownPercent; daily loss against maxDailyLoss (off when unset)."""
    drawdown = Reading(
        BreakerKind.CLIENT_DRAWDOWN,
        client_id,
        drawdown_percent,
        limits.max_drawdown_percent,
        level_of(drawdown_percent, limits.max_drawdown_percent, CLIENT_WARNING_RATIO),
    )
    loss = loss_of(daily_pnl)
    daily = Reading(
        BreakerKind.CLIENT_DAILY_LOSS,
        client_id,
        loss,
        limits.max_daily_loss if limits.max_daily_loss is not None else ZERO,
        level_of(loss, limits.max_daily_loss, CLIENT_WARNING_RATIO),
    )
    return drawdown, daily


def weekly_reading(client_id: str, weekly_pnl: Decimal, cap: Decimal | None) -> Reading:
    """The week's loss against maxWeeklyLoss (off when unset), levelled like daily loss."""
    loss = loss_of(weekly_pnl)
    return Reading(
        BreakerKind.CLIENT_WEEKLY_LOSS,
        client_id,
        loss,
        cap if cap is not None else ZERO,
        level_of(loss, cap, CLIENT_WARNING_RATIO),
    )


# Client breakers whose CRITICAL stops out a client that asked for it.
STOP_OUT_KINDS = (
    BreakerKind.CLIENT_DRAWDOWN,
    BreakerKind.CLIENT_DAILY_LOSS,
    BreakerKind.CLIENT_WEEKLY_LOSS,
)


def stop_outs(changes: Iterable[Transition], opted_in: Iterable[str]) -> dict[str, str]:
    """Clients to halt, each with the reason naming its breach: a client that opted in and
    whose drawdown, daily or weekly loss has just become CRITICAL."""
    wanted = set(opted_in)
    out: dict[str, str] = {}
    for change in changes:
        if (
            change.client_id in wanted
            and change.kind in STOP_OUT_KINDS
            and change.level is AlertLevel.CRITICAL
            and change.client_id not in out
        ):
            out[change.client_id] = f"stop-out on breach: {change.message}"
    return out


def platform_readings(
    exposure: PlatformExposure, limits: PlatformLimits
) -> tuple[Reading, Reading]:
    """Exposure (reservations count, as in the limits) and daily loss against the platform caps."""
    used = exposure.totals.gross + exposure.reserved_exposure
    loss = loss_of(exposure.daily_pnl)
    return (
        Reading(
            BreakerKind.PLATFORM_EXPOSURE,
            None,
            used,
            limits.max_total_exposure,
            level_of(used, limits.max_total_exposure, PLATFORM_WARNING_RATIO),
        ),
        Reading(
            BreakerKind.PLATFORM_DAILY_LOSS,
            None,
            loss,
            limits.max_daily_loss,
            level_of(loss, limits.max_daily_loss, PLATFORM_WARNING_RATIO),
        ),
    )


@dataclass(frozen=True, slots=True)
class Transition:
    """A breaker whose level changed: what an alert is made of (before it has an id)."""

    kind: BreakerKind
    client_id: str | None
    level: AlertLevel
    previous_level: AlertLevel
    value: Decimal
    limit: Decimal
    message: str

    @property
    def scope(self) -> str:
        return scope_key(self.client_id)


def transitions(
    readings: Iterable[Reading], states: Mapping[tuple[str, str], AlertLevel]
) -> list[Transition]:
    """Readings whose level differs from the last one stored; a breaker never seen was OK."""
    out = []
    for reading in readings:
        previous = states.get(reading.key, AlertLevel.OK)
        if reading.level is not previous:
            out.append(
                Transition(
                    reading.kind,
                    reading.client_id,
                    reading.level,
                    previous,
                    reading.value,
                    reading.limit,
                    breaker_message(reading, previous),
                )
            )
    return out


_SUBJECTS = {
    BreakerKind.CLIENT_DRAWDOWN: "drawdown",
    BreakerKind.CLIENT_DAILY_LOSS: "daily loss",
    BreakerKind.CLIENT_WEEKLY_LOSS: "weekly loss",
    BreakerKind.PLATFORM_EXPOSURE: "platform exposure",
    BreakerKind.PLATFORM_DAILY_LOSS: "platform daily loss",
}


def breaker_message(reading: Reading, previous: AlertLevel) -> str:
    unit = "%" if reading.kind is BreakerKind.CLIENT_DRAWDOWN else ""
    who = f" of client {reading.client_id}" if reading.client_id is not None else ""
    change = "rose" if SEVERITY[reading.level] > SEVERITY[previous] else "fell"
    if reading.kind is BreakerKind.CLIENT_DAILY_LOSS and reading.limit <= 0:
        return f"daily loss cap{who} removed: {previous.value} -> {reading.level.value}"
    if reading.kind is BreakerKind.CLIENT_WEEKLY_LOSS and reading.limit <= 0:
        return f"weekly loss cap{who} removed: {previous.value} -> {reading.level.value}"
    return (
        f"{_SUBJECTS[reading.kind]}{who} {change} to {reading.level.value} "
        f"(was {previous.value}): {round2(reading.value)}{unit} "
        f"against a limit of {round2(reading.limit)}{unit}"
    )


MODE_LEVELS = {
    TradingMode.ACTIVE: AlertLevel.OK,
    TradingMode.REDUCE_ONLY: AlertLevel.WARNING,
    TradingMode.HALTED: AlertLevel.CRITICAL,
}


def mode_change(
    client_id: str | None, old: TradingMode, new: TradingMode, reason: str
) -> Transition:
    """A trading-mode change as an alert: ACTIVE is OK, REDUCE_ONLY WARNING, HALTED CRITICAL.

    It has no measured value: `value` and `limit` are 0.
    """
    who = "platform" if client_id is None else f"client {client_id}"
    return Transition(
        BreakerKind.TRADING_MODE,
        client_id,
        MODE_LEVELS[new],
        MODE_LEVELS[old],
        ZERO,
        ZERO,
        f"trading mode of {who} changed from {old.value} to {new.value}: {reason}",
    )


@dataclass(frozen=True, slots=True)
class Alert:
    """A stored breaker alert."""

    id: int
    client_id: str | None
    kind: str
    level: AlertLevel
    previous_level: AlertLevel
    value: Decimal
    limit: Decimal
    message: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class FeedGap:
    """Pushed alerts may have been missed since `since` (the bus lost its connection, or a
    subscriber fell behind): subscribers catch up from the stored alerts."""

    since: datetime


def alert_scope(caller: Caller, client_id: str | None) -> str | None:
    """Whose alerts the caller reads: a client only its own; service and admin any client,
    or every alert (platform ones included) when they name none. None means all."""
    if caller.is_client:
        if client_id is not None and client_id != caller.sub:
            raise Forbidden("a client may only reach its own alerts")
        return caller.sub
    return None if client_id is None else validate_client_id(client_id)


def visible(alert: Alert, scope: str | None) -> bool:
    """Whether an alert belongs to what a subscriber watches (None: everything)."""
    return scope is None or alert.client_id == scope
