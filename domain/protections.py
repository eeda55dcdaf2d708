"""Protections beyond the six limits: leverage, weekly loss, loss-streak cooldown, signal rate,
instrument lists and stop-out.

Each is a profile setting (off by default) with its own check. Their state is kept as small
running aggregates (a loss streak, a token bucket, the week's realized P&L) so that a check
never looks at trade history.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from domain.errors import BadInput
from domain.instruments import normalize_symbol
from domain.numbers import ONE, ZERO, round2

RATE_WINDOW_SECONDS = Decimal(60)


@dataclass(frozen=True, slots=True)
class Protections:
    """A client's protection settings; the defaults switch every one of them off."""

    max_leverage: Decimal | None = None
    max_weekly_loss: Decimal | None = None
    loss_streak_limit: int | None = None
    cooldown_minutes: int = 60
    max_signals_per_minute: int | None = None
    # None: every instrument is allowed.
    allowed_instruments: tuple[str, ...] | None = None
    blocked_instruments: tuple[str, ...] = ()
    stop_out_on_breach: bool = False


DEFAULT_PROTECTIONS = Protections()

# The most permissive settings a client may choose for itself (what admins tighten).
OPEN_CEILINGS = Protections(cooldown_minutes=1)

PROTECTION_NAMES: dict[str, str] = {
    "max_leverage": "maxLeverage",
    "max_weekly_loss": "maxWeeklyLoss",
    "loss_streak_limit": "lossStreakLimit",
    "cooldown_minutes": "cooldownMinutes",
    "max_signals_per_minute": "maxSignalsPerMinute",
    "allowed_instruments": "allowedInstruments",
    "blocked_instruments": "blockedInstruments",
    "stop_out_on_breach": "stopOutOnBreach",
}

# Inclusive ranges; None as the upper bound: only "greater than the lower bound".
PROTECTION_RANGES: dict[str, tuple[Decimal, Decimal | None]] = {
    "max_leverage": (Decimal(1), Decimal(1000)),
    "max_weekly_loss": (ZERO, None),
    "loss_streak_limit": (Decimal(1), Decimal(100)),
    "cooldown_minutes": (Decimal(1), Decimal(10_080)),
    "max_signals_per_minute": (Decimal(1), Decimal(10_000)),
}
# Settings whose null means "off" (the others may not be null).
NULLABLE = {
    "max_leverage",
    "max_weekly_loss",
    "loss_streak_limit",
    "max_signals_per_minute",
    "allowed_instruments",
}
MAX_LISTED = 500


def _symbols(name: str, raw: Iterable[str], catalog: Collection[str]) -> tuple[str, ...]:
    public = PROTECTION_NAMES[name]
    symbols = sorted({normalize_symbol(s, field=public) for s in raw})
    if len(symbols) > MAX_LISTED:
        raise BadInput(f"{public} may list at most {MAX_LISTED} instruments", field=public)
    unknown = [s for s in symbols if s not in catalog]
    if unknown:
        raise BadInput(f"{public} names unknown instruments: {', '.join(unknown)}", field=public)
    return tuple(symbols)


def normalize_value(name: str, value: Any, catalog: Collection[str]) -> Any:
    """One protection setting checked against its range (symbols against the catalog)."""
    public = PROTECTION_NAMES[name]
    if value is None:
        if name not in NULLABLE:
            raise BadInput(f"{public} may not be null", field=public)
        return None
    if name in ("allowed_instruments", "blocked_instruments"):
        return _symbols(name, value, catalog)
    if name == "stop_out_on_breach":
        return bool(value)
    low, high = PROTECTION_RANGES[name]
    if high is None:
        if value <= low:
            raise BadInput(f"{public} must be greater than {low}", field=public)
    elif value < low or value > high:
        raise BadInput(f"{public} must be between {low} and {high}", field=public)
    return value


def within_ceiling(name: str, value: Any, ceiling: Any) -> None:
    """A client's own setting may be no more permissive than the platform's ceiling."""
    public = PROTECTION_NAMES[name]
    if name == "cooldown_minutes":
        if value < ceiling:
            raise BadInput(
                f"{public} may not be below the platform floor of {ceiling}", field=public
            )
        return
    if name == "stop_out_on_breach":
        if ceiling and not value:
            raise BadInput(f"{public} is required by the platform", field=public)
        return
    if name == "blocked_instruments":
        missing = sorted(set(ceiling) - set(value))
        if missing:
            raise BadInput(
                f"{public} must keep the platform's blocked instruments: {', '.join(missing)}",
                field=public,
            )
        return
    if ceiling is None:
        return
    if value is None:
        raise BadInput(f"{public} may not be cleared: the platform sets a ceiling", field=public)
    if name == "allowed_instruments":
        outside = sorted(set(value) - set(ceiling))
        if outside:
            raise BadInput(
                f"{public} may only name instruments the platform allows; not {', '.join(outside)}",
                field=public,
            )
        return
    if value > ceiling:
        raise BadInput(f"{public} may not exceed the platform ceiling of {ceiling}", field=public)


def apply_protection_changes(
    current: Protections,
    changes: dict[str, Any],
    *,
    catalog: Collection[str],
    ceilings: Protections | None,
) -> Protections:
    """Validate a partial update of the protections; any invalid field rejects all of it."""
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in PROTECTION_NAMES:
            raise BadInput(f"unknown setting {name}", field=name)
        clean[name] = normalize_value(name, value, catalog)
        if ceilings is not None:
            within_ceiling(name, clean[name], getattr(ceilings, name))
    return replace(current, **clean)


def validate_protection_ceilings(ceilings: Protections, catalog: Collection[str]) -> Protections:
    """Ceilings are themselves settings a profile could hold."""
    return replace(
        ceilings,
        **{
            name: normalize_value(name, getattr(ceilings, name), catalog)
            for name in PROTECTION_NAMES
        },
    )


# --- running state --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LossStreak:
    """Consecutive losing closes at the end of the client's closes ordered by closedAt.

    `last_close_at` and `last_win_at` let a close that arrives late (older than the newest
    one) be placed correctly without reading history.
    """

    count: int = 0
    last_loss_at: datetime | None = None
    last_close_at: datetime | None = None
    last_win_at: datetime | None = None


def needs_recount(streak: LossStreak, closed_at: datetime, pnl: Decimal) -> bool:
    """A late win inside the current losing run cuts it: the losses after it must be counted."""
    return (
        pnl >= 0
        and streak.last_close_at is not None
        and closed_at < streak.last_close_at
        and (streak.last_win_at is None or closed_at > streak.last_win_at)
    )


def streak_after_close(
    streak: LossStreak, closed_at: datetime, pnl: Decimal, *, later_closes: int = 0
) -> LossStreak:
    """The streak once a close is booked; `later_closes` (closes after a late win) only
    matters when `needs_recount` says so."""
    newest = streak.last_close_at is None or closed_at >= streak.last_close_at
    last_close = closed_at if newest else streak.last_close_at
    if pnl < 0:
        if newest:
            return LossStreak(streak.count + 1, closed_at, closed_at, streak.last_win_at)
        if streak.last_win_at is not None and closed_at <= streak.last_win_at:
            return replace(streak, last_close_at=last_close)
        return replace(streak, count=streak.count + 1, last_close_at=last_close)
    if newest:
        return LossStreak(0, None, closed_at, closed_at)
    if streak.last_win_at is not None and closed_at <= streak.last_win_at:
        return streak
    return replace(streak, count=later_closes, last_win_at=closed_at)


@dataclass(frozen=True, slots=True)
class RateBucket:
    """A token bucket: `tokens` as of `at`; refills at the cap per minute up to the cap."""

    tokens: Decimal
    at: datetime


def refilled(bucket: RateBucket | None, cap: int, now: datetime) -> Decimal:
    """Tokens available at `now`; a client never checked has a full bucket."""
    if bucket is None:
        return Decimal(cap)
    elapsed = max(Decimal(str((now - bucket.at).total_seconds())), ZERO)
    return min(Decimal(cap), bucket.tokens + elapsed * cap / RATE_WINDOW_SECONDS)


def spend(bucket: RateBucket | None, cap: int, now: datetime) -> RateBucket:
    """The bucket after one reserving check: it takes a token when one is there (a check
    refused for want of a token has nothing to take)."""
    tokens = refilled(bucket, cap, now)
    if tokens >= ONE:
        tokens -= ONE
    return RateBucket(tokens, now)


def spent(protections: Protections, bucket: RateBucket | None, now: datetime) -> RateBucket | None:
    """The bucket after a reserving check (approved or refused: both spend); None when the
    client has no signal-rate cap and so no bucket to keep."""
    cap = protections.max_signals_per_minute
    return None if cap is None else spend(bucket, cap, now)


@dataclass(frozen=True, slots=True)
class GuardState:
    """What the protection checks read besides the profile, as of `now`."""

    now: datetime | None = None
    # Realized P&L of trades closed this trading week; unrealized is added from the book.
    realized_week: Decimal = ZERO
    streak: LossStreak = LossStreak()
    bucket: RateBucket | None = None


NO_GUARDS = GuardState()


def cooldown_until(streak: LossStreak, limit: int | None, minutes: int) -> datetime | None:
    """When the cooldown ends, or None when the streak does not call for one."""
    if limit is None or streak.count < limit or streak.last_loss_at is None:
        return None
    return streak.last_loss_at + timedelta(minutes=minutes)


def instrument_blocked(symbol: str, protections: Protections) -> str | None:
    """Why `symbol` may not be traded by this client, or None."""
    if symbol in protections.blocked_instruments:
        return f"{symbol} is on this client's blocked instruments"
    allowed = protections.allowed_instruments
    if allowed is not None and symbol not in allowed:
        return f"{symbol} is not among this client's allowed instruments"
    return None


def leverage(gross: Decimal, equity: Decimal) -> Decimal:
    """Gross notional / equity; 0 with nothing held, and no ratio without positive equity."""
    return gross / equity if equity > 0 else ZERO


def describe_leverage(value: Decimal) -> str:
    return f"{round2(value)}x"


def protection_audit(protections: Protections) -> dict[str, Any]:
    """The settings as an audit trail records them (lists as comma-separated symbols)."""
    out: dict[str, Any] = {}
    for name in PROTECTION_NAMES:
        value = getattr(protections, name)
        if isinstance(value, tuple):
            value = ",".join(value)
        elif isinstance(value, Decimal):
            value = str(value)
        out[name] = value
    return out


def protections_from_audit(values: dict[str, Any] | None) -> Protections:
    """Read back what `protection_audit` wrote (None: the defaults)."""
    if values is None:
        return DEFAULT_PROTECTIONS

    def opt_int(raw: Any) -> int | None:
        return None if raw is None else int(raw)

    def opt_dec(raw: Any) -> Decimal | None:
        return None if raw is None else Decimal(str(raw))

    allowed = values.get("allowed_instruments")
    blocked = values.get("blocked_instruments") or ""
    return Protections(
        max_leverage=opt_dec(values.get("max_leverage")),
        max_weekly_loss=opt_dec(values.get("max_weekly_loss")),
        loss_streak_limit=opt_int(values.get("loss_streak_limit")),
        cooldown_minutes=int(values.get("cooldown_minutes", 60)),
        max_signals_per_minute=opt_int(values.get("max_signals_per_minute")),
        allowed_instruments=None if allowed is None else tuple(s for s in allowed.split(",") if s),
        blocked_instruments=tuple(s for s in blocked.split(",") if s),
        stop_out_on_breach=bool(values.get("stop_out_on_breach", False)),
    )
