"""The protection checks: each reports headroom and, when it fails, a violation, like the
six limit checks it runs beside (see `domain.protections` for the settings and state)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from domain.checks import (
    CheckOutcome,
    ClientState,
    Headroom,
    LimitCheck,
    Signal,
    _money,
    _outcome,
    check_period_loss,
    loss_at_stop,
    signal_notional,
)
from domain.instruments import Instrument
from domain.numbers import ONE, ZERO
from domain.profile import RiskProfile
from domain.protections import (
    GuardState,
    LossStreak,
    Protections,
    RateBucket,
    cooldown_until,
    describe_leverage,
    instrument_blocked,
    leverage,
    refilled,
)


def check_leverage(
    gross: Decimal, signal_value: Decimal, equity: Decimal, cap: Decimal | None
) -> CheckOutcome:
    """(Gross notional held and reserved + the signal's) / equity must not exceed the cap;
    without positive equity nothing may be levered (`current` is then the equity)."""
    check = LimitCheck.MAX_LEVERAGE
    before = leverage(gross, equity)
    if cap is None:
        return CheckOutcome(Headroom(check, None, before, None))
    if equity <= 0:
        message = (
            f"equity is {_money(equity)}: with no positive equity no position may be levered "
            f"(maximum leverage {describe_leverage(cap)})"
        )
        return _outcome(check, cap, cap, True, equity, message)
    after_gross = gross + signal_value
    after = after_gross / equity
    message = (
        f"exposure of {_money(after_gross)} after this signal would be "
        f"{describe_leverage(after)} the equity of {_money(equity)}, over the maximum "
        f"leverage of {describe_leverage(cap)}"
    )
    # Compared as products so that leverage exactly at the cap is never rounded over it.
    return _outcome(check, cap, before, after_gross > cap * equity, after, message)


def check_weekly_loss(
    weekly_pnl: Decimal, cap: Decimal | None, stop_loss_amount: Decimal | None
) -> CheckOutcome:
    """With a cap: the week's loss must stay below it and, with a stop, loss + stop risk ≤ cap."""
    return check_period_loss(
        LimitCheck.MAX_WEEKLY_LOSS, ("this week's", "weekly"), weekly_pnl, cap, stop_loss_amount
    )


def check_cooldown(
    streak: LossStreak, limit: int | None, minutes: int, now: datetime | None
) -> CheckOutcome:
    """After `limit` losing closes in a row, no new trade until `minutes` after the last."""
    check = LimitCheck.COOLDOWN
    used = Decimal(streak.count)
    if limit is None:
        return CheckOutcome(Headroom(check, None, used, None))
    until = cooldown_until(streak, limit, minutes)
    failed = until is not None and now is not None and now < until
    message = ""
    if until is not None:
        message = (
            f"the last {streak.count} closed trades all lost (the limit is {limit} in a row); "
            f"cooling down for {minutes} minutes, until {until:%Y-%m-%d %H:%M:%S} UTC"
        )
    return _outcome(check, Decimal(limit), used, failed, used, message)


def check_signal_rate(
    bucket: RateBucket | None, cap: int | None, now: datetime | None
) -> CheckOutcome:
    """At most `cap` reserving checks of the client per minute (a token bucket)."""
    check = LimitCheck.SIGNAL_RATE
    if cap is None:
        return CheckOutcome(Headroom(check, None, ZERO, None))
    tokens = refilled(bucket, cap, now) if now is not None else Decimal(cap)
    used = Decimal(cap) - tokens
    message = (
        f"more than {cap} reserving checks of this client within a minute; "
        f"the next one is allowed once the rate falls back under the cap"
    )
    return _outcome(check, Decimal(cap), used, tokens < ONE, used + ONE, message)


def check_instrument_lists(symbol: str, protections: Protections) -> CheckOutcome:
    """The symbol must be on the allow list (when there is one) and not on the block list."""
    check = LimitCheck.INSTRUMENT_NOT_ALLOWED
    if protections.allowed_instruments is None and not protections.blocked_instruments:
        return CheckOutcome(Headroom(check, None, ZERO, None))
    reason = instrument_blocked(symbol, protections)
    used = ONE if reason is not None else ZERO
    return _outcome(check, ONE, used, reason is not None, used, reason or "")


def run_guards(
    signal: Signal,
    instrument: Instrument,
    profile: RiskProfile,
    client: ClientState,
    guards: GuardState,
) -> tuple[CheckOutcome, ...]:
    """Every protection check's outcome, in LimitCheck order."""
    settings = profile.protections
    exposure = client.exposure
    gross = exposure.totals.gross + exposure.reserved_exposure
    weekly_pnl = exposure.totals.unrealized + guards.realized_week
    return (
        check_leverage(
            gross, signal_notional(signal, instrument), exposure.equity, settings.max_leverage
        ),
        check_weekly_loss(weekly_pnl, settings.max_weekly_loss, loss_at_stop(signal, instrument)),
        check_cooldown(
            guards.streak, settings.loss_streak_limit, settings.cooldown_minutes, guards.now
        ),
        check_signal_rate(guards.bucket, settings.max_signals_per_minute, guards.now),
        check_instrument_lists(signal.symbol, settings),
    )
