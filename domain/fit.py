"""Fitting a signal's volume: the largest lot multiple that every check passes.

A copy platform would rather copy a smaller trade than none. A signal that fails only
checks a smaller volume can satisfy is approved at the largest multiple of the lot step,
not above the requested volume and not below the minimum, at which every check passes.

The search is exact and cheap because of the shape of each check's passing volumes:

- every check but the windowed ones is *downward closed*: if it passes at a volume it
  passes at every smaller one (sizes, losses and drawdown at the stop, platform exposure,
  instrument concentration, leverage grow with the volume; halts, position counts and
  losses already at their limit do not depend on it). Their common passing set is
  [minimum, M], and M is found by bisection over the lot grid.
- CORRELATION_EXPOSURE is not: an opposite signal hedges the group until it over-hedges
  it. Its passing set is still one interval, solved in closed form from the ratio.

Every candidate is confirmed by evaluating all checks at it, so the closed form only has
to be right to within a lot step (it is, to 80 digits).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from domain.checks import (
    CheckResult,
    ClientState,
    LimitCheck,
    PlatformState,
    Signal,
    evaluate,
)
from domain.correlation import correlation_sums, holds_positions
from domain.instruments import Instrument, notional
from domain.numbers import LOT_STEP, ONE, ZERO
from domain.profile import CORRELATION_OFF, RiskProfile
from domain.protections import NO_GUARDS, GuardState

# Checks a smaller volume can satisfy, by kind. Names rather than members so that checks
# added to LimitCheck later are matched by their value. A failing check outside this set
# means the signal is never fitted.
FITTABLE: frozenset[str] = frozenset(
    {
        "MAX_POSITION_SIZE",
        "PLATFORM_POSITION_SIZE",
        "MAX_DAILY_LOSS",
        "MAX_WEEKLY_LOSS",
        "MAX_DRAWDOWN",
        "CORRELATION_EXPOSURE",
        "PLATFORM_EXPOSURE",
        "INSTRUMENT_CONCENTRATION",
        "MAX_LEVERAGE",
    }
)

# [low, high] volumes at which a windowed check passes; high None means no upper end;
# low > high means no volume passes.
Window = tuple[Decimal, Decimal | None]
Evaluator = Callable[[Decimal], CheckResult]


@dataclass(frozen=True, slots=True)
class Fitted:
    """The checks at the approved volume, the volume asked for, and what bound the fit.

    `fitted_by` is empty unless the volume was reduced; then it holds the checks (each of
    which failed at the requested volume) that fail one lot step above the approved one.
    """

    result: CheckResult
    requested_volume: Decimal
    fitted_by: tuple[LimitCheck, ...] = ()


def unfitted(result: CheckResult) -> Fitted:
    """A decision taken at the requested volume."""
    return Fitted(result, result.volume)


def fittable(failing: Iterable[str]) -> bool:
    """True when every failing check is of a kind a smaller volume may satisfy."""
    return all(check in FITTABLE for check in failing)


def fit_volume(
    evaluate_at: Evaluator,
    requested: Decimal,
    *,
    step: Decimal,
    minimum: Decimal,
    windows: Mapping[str, Window] | None = None,
    at_requested: CheckResult | None = None,
) -> Fitted:
    """The largest grid volume in [minimum, requested] that passes every check.

    `evaluate_at` runs every check at a volume; `windows` gives, for the checks whose
    passing volumes are an interval rather than downward closed, that interval. Volumes
    are multiples of `step`; `requested` is one. Without such a volume, or when a check
    outside FITTABLE fails at the requested volume, the result is the requested volume's.
    """
    first = at_requested if at_requested is not None else evaluate_at(requested)
    if first.passes or not fittable(v.check for v in first.violations):
        return Fitted(first, requested)
    windows = windows or {}
    top = _index(requested, step, ROUND_FLOOR)
    low = max(_index(minimum, step, ROUND_CEILING), 1)
    seen: dict[int, CheckResult] = {top: first}

    def at(k: int) -> CheckResult:
        found = seen.get(k)
        if found is None:
            found = seen[k] = evaluate_at(step * k)
        return found

    def downward_ok(k: int) -> bool:
        return all(v.check in windows for v in at(k).violations)

    if top <= low or not downward_ok(low):
        return Fitted(first, requested)
    # Bisection: downward_ok holds at `good`, fails at `bad` (the requested volume fails
    # some check; if only windowed ones, the window search below settles it).
    good, bad = low, top
    if downward_ok(top):
        good = bad = top
    while bad - good > 1:
        middle = (good + bad) // 2
        if downward_ok(middle):
            good = middle
        else:
            bad = middle
    high = min(good, top - 1)
    floor = low
    for window_low, window_high in windows.values():
        floor = max(floor, _index(window_low, step, ROUND_CEILING))
        if window_high is not None:
            high = min(high, _index(window_high, step, ROUND_FLOOR))
    if floor > high + 1:
        return Fitted(first, requested)
    # The closed forms are exact to far below a lot step: the answer is within one step
    # of `high`, or there is none.
    for k in (high + 1, high, high - 1):
        if low <= k <= min(good, top - 1) and at(k).passes:
            above = at(k + 1)
            bound = tuple(v.check for v in above.violations)
            return Fitted(at(k), requested, bound)
    return Fitted(first, requested)


def _index(volume: Decimal, step: Decimal, rounding: str) -> int:
    """How many whole steps fit in `volume` (rounded as asked), never below 0."""
    if volume <= 0:
        return 0
    return int((volume / step).to_integral_value(rounding=rounding))


def correlation_window(
    net: Decimal, gross: Decimal, sign: int, per_lot: Decimal, limit: Decimal
) -> Window:
    """Volumes v with |net + sign·per_lot·v| / (gross + per_lot·v) ≤ limit.

    Both sides linear in x = per_lot·v ≥ 0: with b = sign·net the inequality is
    x ≤ (limit·gross − b) / (1 − limit) and x ≥ −(limit·gross + b) / (1 + limit).
    """
    b = net * sign
    upper = (limit * gross - b) / (ONE - limit)
    lower = max(-(limit * gross + b) / (ONE + limit), ZERO)
    return lower / per_lot, upper / per_lot


def fit_signal(
    signal: Signal,
    instrument: Instrument,
    profile: RiskProfile,
    client: ClientState,
    platform: PlatformState,
    guards: GuardState = NO_GUARDS,
) -> Fitted:
    """Evaluate the signal and, when only fittable checks fail, fit its volume."""

    def evaluate_at(volume: Decimal) -> CheckResult:
        return evaluate(
            replace(signal, volume=volume), instrument, profile, client, platform, guards
        )

    first = evaluate_at(signal.volume)
    if first.passes or not fittable(v.check for v in first.violations):
        return Fitted(first, signal.volume)
    windows: dict[str, Window] = {}
    limit = profile.limits.max_correlation_exposure
    if limit < CORRELATION_OFF and holds_positions(client.books, client.reservations):
        net, gross = correlation_sums(
            instrument.correlation_group, client.books, client.reservations, client.catalog
        )
        per_lot = notional(ONE, signal.entry_price, instrument)
        windows[LimitCheck.CORRELATION_EXPOSURE] = correlation_window(
            net, gross, signal.direction.sign, per_lot, limit
        )
    return fit_volume(
        evaluate_at,
        signal.volume,
        step=instrument.lot_step,
        minimum=max(instrument.min_volume, LOT_STEP),
        windows=windows,
        at_requested=first,
    )
