"""Pre-trade checks of a signal against the client's profile and the platform's breakers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from domain.correlation import (
    correlation_ratio,
    correlation_sums,
    holds_positions,
    opposite_open_volume,
)
from domain.equity import drawdown_percent
from domain.exposure import ClientExposure, PlatformExposure, Reservation
from domain.instruments import Instrument, notional
from domain.limits import PlatformLimits
from domain.numbers import ONE, ZERO, loss_of, round2
from domain.positions import PositionBook
from domain.profile import CORRELATION_OFF, RiskProfile
from domain.protections import NO_GUARDS, GuardState
from domain.values import Direction, TradingMode


class LimitCheck(StrEnum):
    TRADING_HALTED = "TRADING_HALTED"
    MAX_OPEN_POSITIONS = "MAX_OPEN_POSITIONS"
    MAX_POSITION_SIZE = "MAX_POSITION_SIZE"
    MAX_DAILY_LOSS = "MAX_DAILY_LOSS"
    MAX_DRAWDOWN = "MAX_DRAWDOWN"
    CORRELATION_EXPOSURE = "CORRELATION_EXPOSURE"
    PLATFORM_POSITION_SIZE = "PLATFORM_POSITION_SIZE"
    PLATFORM_EXPOSURE = "PLATFORM_EXPOSURE"
    PLATFORM_POSITIONS = "PLATFORM_POSITIONS"
    PLATFORM_DAILY_LOSS = "PLATFORM_DAILY_LOSS"
    INSTRUMENT_CONCENTRATION = "INSTRUMENT_CONCENTRATION"
    # Protections (domain.guards), each off until the client's profile sets it.
    MAX_LEVERAGE = "MAX_LEVERAGE"
    MAX_WEEKLY_LOSS = "MAX_WEEKLY_LOSS"
    COOLDOWN = "COOLDOWN"
    SIGNAL_RATE = "SIGNAL_RATE"
    INSTRUMENT_NOT_ALLOWED = "INSTRUMENT_NOT_ALLOWED"


@dataclass(frozen=True, slots=True)
class Signal:
    """A proposed trade for one client: volume already decided (given or sized)."""

    signal_id: str
    client_id: str
    symbol: str
    direction: Direction
    volume: Decimal
    entry_price: Decimal
    stop_loss: Decimal | None


@dataclass(frozen=True, slots=True)
class ClientState:
    """Client aggregates; `catalog` covers the books', reservations' and signal's symbols."""

    exposure: ClientExposure
    books: tuple[PositionBook, ...]
    reservations: tuple[Reservation, ...]
    catalog: Mapping[str, Instrument]


@dataclass(frozen=True, slots=True)
class PlatformState:
    """Platform aggregates as of the check, reservations kept apart from open positions."""

    limits: PlatformLimits
    open_positions: int
    gross_exposure: Decimal
    reserved_positions: int
    reserved_exposure: Decimal
    # Open plus reserved lots on the signal's instrument, both directions.
    instrument_volume: Decimal
    daily_pnl: Decimal


def platform_state(
    exposure: PlatformExposure,
    limits: PlatformLimits,
    reserved_volume: Mapping[str, Decimal],
    symbol: str,
) -> PlatformState:
    """The platform figures the checks compare, for a signal on `symbol`."""
    on_instrument = sum(
        (row.volume for row in exposure.totals.by_instrument if row.symbol == symbol), ZERO
    ) + reserved_volume.get(symbol, ZERO)
    return PlatformState(
        limits=limits,
        open_positions=exposure.totals.open_positions,
        gross_exposure=exposure.totals.gross,
        reserved_positions=exposure.reserved_positions,
        reserved_exposure=exposure.reserved_exposure,
        instrument_volume=on_instrument,
        daily_pnl=exposure.daily_pnl,
    )


@dataclass(frozen=True, slots=True)
class Violation:
    """A failed check: `current` is the value compared with `limit` (after the signal)."""

    check: LimitCheck
    limit: Decimal
    current: Decimal
    message: str


@dataclass(frozen=True, slots=True)
class Headroom:
    """Room left under a limit before the signal; `limit`/`remaining` are None when uncapped."""

    check: LimitCheck
    limit: Decimal | None
    used: Decimal
    remaining: Decimal | None


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """What one check found: its headroom and, when it fails, the violation."""

    headroom: Headroom
    violation: Violation | None = None

    @property
    def passes(self) -> bool:
        return self.violation is None


@dataclass(frozen=True, slots=True)
class CheckResult:
    passes: bool
    volume: Decimal
    notional: Decimal
    violations: tuple[Violation, ...]
    headroom: tuple[Headroom, ...]


def _headroom(check: LimitCheck, limit: Decimal, used: Decimal) -> Headroom:
    return Headroom(check, limit, used, max(limit - used, ZERO))


def _money(value: Decimal) -> str:
    return f"{round2(value):,}"


def _lots(value: Decimal) -> str:
    return f"{round2(value)} lots"


def _pct(value: Decimal) -> str:
    return f"{round2(value)} %"


def _outcome(
    check: LimitCheck,
    limit: Decimal,
    used: Decimal,
    failed: bool,
    current: Decimal,
    message: str,
) -> CheckOutcome:
    violation = Violation(check, limit, current, message) if failed else None
    return CheckOutcome(_headroom(check, limit, used), violation)


def signal_notional(signal: Signal, instrument: Instrument) -> Decimal:
    """Account-currency value of the signal at its entry price."""
    return notional(signal.volume, signal.entry_price, instrument)


def loss_at_stop(signal: Signal, instrument: Instrument) -> Decimal | None:
    """Money lost if the stop is hit; None without a stop, 0 for a stop on the profit side."""
    if signal.stop_loss is None:
        return None
    move = (signal.entry_price - signal.stop_loss) * signal.direction.sign
    loss = move * signal.volume * instrument.contract_size * instrument.quote_to_account_rate
    return max(loss, ZERO)


def check_trading_mode(
    signal: Signal,
    platform_mode: TradingMode,
    client_mode: TradingMode,
    books: Iterable[PositionBook],
    reservations: Iterable[Reservation] = (),
) -> CheckOutcome:
    """HALTED blocks everything; REDUCE_ONLY lets through only a signal that reduces.

    Reducing signals already reserved on the same side use up the open volume they reduce,
    so two approvals cannot together reduce more than is open.
    """
    check = LimitCheck.TRADING_HALTED
    reason: str | None = None
    if platform_mode is TradingMode.HALTED:
        reason = "trading is halted for the whole platform"
    elif client_mode is TradingMode.HALTED:
        reason = "trading is halted for this client"
    elif TradingMode.REDUCE_ONLY in (platform_mode, client_mode):
        who = "the platform" if platform_mode is TradingMode.REDUCE_ONLY else "this client"
        held = opposite_open_volume(books, signal.symbol, signal.direction) - sum(
            (
                r.volume
                for r in reservations
                if r.symbol == signal.symbol and r.direction is signal.direction
            ),
            ZERO,
        )
        held = max(held, ZERO)
        if held < signal.volume:
            reason = (
                f"{who} is in reduce-only mode: a {signal.direction} of "
                f"{_lots(signal.volume)} on {signal.symbol} needs at least that much open "
                f"{signal.direction.opposite} volume to reduce, and {_lots(held)} is open"
            )
    used = ONE if reason is not None else ZERO
    return _outcome(check, ONE, used, reason is not None, used, reason or "")


def check_open_positions(positions: int, limit: int) -> CheckOutcome:
    """Client positions (open + reserved) + 1 must not exceed maxOpenPositions."""
    after = positions + 1
    message = (
        f"{positions} of {limit} positions already open or reserved; this signal would make {after}"
    )
    return _outcome(
        LimitCheck.MAX_OPEN_POSITIONS,
        Decimal(limit),
        Decimal(positions),
        after > limit,
        Decimal(after),
        message,
    )


def check_position_size(volume: Decimal, limit: Decimal) -> CheckOutcome:
    """The signal's volume must not exceed the client's maxPositionSize (used is always 0)."""
    message = f"volume {_lots(volume)} exceeds the maximum position size of {_lots(limit)}"
    return _outcome(LimitCheck.MAX_POSITION_SIZE, limit, ZERO, volume > limit, volume, message)


def check_daily_loss(
    daily_pnl: Decimal, cap: Decimal | None, stop_loss_amount: Decimal | None
) -> CheckOutcome:
    """With a cap: today's loss must stay below it and, with a stop, loss + stop risk ≤ cap."""
    return check_period_loss(
        LimitCheck.MAX_DAILY_LOSS, ("today's", "daily"), daily_pnl, cap, stop_loss_amount
    )


def check_period_loss(
    check: LimitCheck,
    words: tuple[str, str],
    pnl: Decimal,
    cap: Decimal | None,
    stop_loss_amount: Decimal | None,
) -> CheckOutcome:
    """A loss cap over a period (a trading day or week): the loss so far must stay below the
    cap and, with a stop, the loss plus the signal's loss at its stop must not exceed it.
    `words` name the period in messages ("today's", "daily")."""
    whose, period = words
    lost = loss_of(pnl)
    if cap is None:
        return CheckOutcome(Headroom(check, None, lost, None))
    if lost >= cap:
        current = lost if stop_loss_amount is None else lost + stop_loss_amount
        message = (
            f"{whose} loss of {_money(lost)} has reached the {period} loss cap of {_money(cap)}"
        )
        return _outcome(check, cap, lost, True, current, message)
    if stop_loss_amount is not None and lost + stop_loss_amount > cap:
        current = lost + stop_loss_amount
        message = (
            f"{whose} loss of {_money(lost)} plus {_money(stop_loss_amount)} at this signal's "
            f"stop would be {_money(current)}, over the {period} loss cap of {_money(cap)}"
        )
        return _outcome(check, cap, lost, True, current, message)
    return _outcome(check, cap, lost, False, lost, "")


def check_drawdown(
    peak: Decimal,
    equity: Decimal,
    drawdown: Decimal,
    limit: Decimal,
    stop_loss_amount: Decimal | None,
) -> CheckOutcome:
    """Drawdown must be below the limit and, with a stop, not above it after a stop-out."""
    check = LimitCheck.MAX_DRAWDOWN
    if drawdown >= limit:
        current = drawdown
        if stop_loss_amount is not None:
            current = drawdown_percent(peak, equity - stop_loss_amount)
        message = f"drawdown of {_pct(drawdown)} has reached the maximum drawdown of {_pct(limit)}"
        return _outcome(check, limit, drawdown, True, current, message)
    if stop_loss_amount is not None:
        after = drawdown_percent(peak, equity - stop_loss_amount)
        if after > limit:
            message = (
                f"losing {_money(stop_loss_amount)} at this signal's stop would take the "
                f"drawdown from {_pct(drawdown)} to {_pct(after)}, over the maximum of "
                f"{_pct(limit)}"
            )
            return _outcome(check, limit, drawdown, True, after, message)
    return _outcome(check, limit, drawdown, False, drawdown, "")


def check_correlation(
    signal: Signal,
    instrument: Instrument,
    limit: Decimal,
    books: tuple[PositionBook, ...],
    reservations: tuple[Reservation, ...],
    catalog: Mapping[str, Instrument],
) -> CheckOutcome:
    """|Net group notional| / gross notional after the signal; off at 1.00 or holding nothing."""
    check = LimitCheck.CORRELATION_EXPOSURE
    group = instrument.correlation_group
    net, gross = correlation_sums(group, books, reservations, catalog)
    before = correlation_ratio(net, gross)
    if limit >= CORRELATION_OFF or not holds_positions(books, reservations):
        return _outcome(check, limit, before, False, before, "")
    value = signal_notional(signal, instrument)
    after = correlation_ratio(net + value * signal.direction.sign, gross + value)
    message = (
        f"{group} would be {_pct(after * 100)} of the account's exposure (net of hedges), "
        f"over the correlation limit of {_pct(limit * 100)}"
    )
    return _outcome(check, limit, before, after > limit, after, message)


def check_platform_position_size(volume: Decimal, limit: Decimal) -> CheckOutcome:
    """The signal's volume must not exceed the platform's max position size (used is 0)."""
    message = (
        f"volume {_lots(volume)} exceeds the platform's maximum position size of {_lots(limit)}"
    )
    return _outcome(LimitCheck.PLATFORM_POSITION_SIZE, limit, ZERO, volume > limit, volume, message)


def check_platform_exposure(used: Decimal, signal_value: Decimal, limit: Decimal) -> CheckOutcome:
    """Platform notional incl. reservations + the signal's notional must not exceed the cap."""
    after = used + signal_value
    message = (
        f"platform exposure of {_money(used)} plus this signal's {_money(signal_value)} "
        f"would be {_money(after)}, over the platform cap of {_money(limit)}"
    )
    return _outcome(LimitCheck.PLATFORM_EXPOSURE, limit, used, after > limit, after, message)


def check_platform_positions(positions: int, limit: int) -> CheckOutcome:
    """Platform positions (open + reserved) + 1 must not exceed the platform cap."""
    after = positions + 1
    message = (
        f"{positions} of {limit} platform positions already open or reserved; "
        f"this signal would make {after}"
    )
    return _outcome(
        LimitCheck.PLATFORM_POSITIONS,
        Decimal(limit),
        Decimal(positions),
        after > limit,
        Decimal(after),
        message,
    )


def check_platform_daily_loss(daily_pnl: Decimal, limit: Decimal) -> CheckOutcome:
    """The platform's loss today must be below its daily loss cap."""
    lost = loss_of(daily_pnl)
    message = (
        f"the platform has lost {_money(lost)} today, reaching its daily loss cap of "
        f"{_money(limit)}"
    )
    return _outcome(LimitCheck.PLATFORM_DAILY_LOSS, limit, lost, lost >= limit, lost, message)


def check_instrument_concentration(
    symbol: str, used: Decimal, volume: Decimal, cap: Decimal
) -> CheckOutcome:
    """Platform lots on the instrument (open + reserved) + the signal's must not exceed the cap."""
    after = used + volume
    message = (
        f"{_lots(used)} already open or reserved on {symbol} across the platform; "
        f"{_lots(volume)} more would make {_lots(after)}, over the instrument cap of {_lots(cap)}"
    )
    return _outcome(LimitCheck.INSTRUMENT_CONCENTRATION, cap, used, after > cap, after, message)


@dataclass(frozen=True, slots=True)
class ClaimRoom:
    """How far the platform's live reservations may grow beyond those a passing check saw
    (its own aside) before a platform check it passed would fail: positions, notional, and
    lots on its instrument. Another check's reservation landing within it leaves the
    decision as it was."""

    positions: int
    notional: Decimal
    volume: Decimal


def claim_room(platform: PlatformState, volume: Decimal, value: Decimal) -> ClaimRoom:
    """The slack of PLATFORM_POSITIONS, PLATFORM_EXPOSURE and INSTRUMENT_CONCENTRATION for a
    signal of `volume` lots worth `value`, compared as `run_checks` compares them (each is
    >= 0 exactly when that check passes)."""
    caps = platform.limits
    return ClaimRoom(
        positions=caps.max_open_positions
        - (platform.open_positions + platform.reserved_positions + 1),
        notional=caps.max_total_exposure
        - (platform.gross_exposure + platform.reserved_exposure + value),
        volume=caps.instrument_volume_cap - (platform.instrument_volume + volume),
    )


def run_checks(
    signal: Signal,
    instrument: Instrument,
    profile: RiskProfile,
    client: ClientState,
    platform: PlatformState,
) -> tuple[CheckOutcome, ...]:
    """Every check's outcome, in LimitCheck order."""
    limits = profile.limits
    exposure = client.exposure
    caps = platform.limits
    value = signal_notional(signal, instrument)
    at_stop = loss_at_stop(signal, instrument)
    return (
        check_trading_mode(
            signal, caps.trading_mode, profile.trading_mode, client.books, client.reservations
        ),
        check_open_positions(
            exposure.totals.open_positions + exposure.reserved_positions,
            limits.max_open_positions,
        ),
        check_position_size(signal.volume, limits.max_position_size),
        check_daily_loss(exposure.daily_pnl, limits.max_daily_loss, at_stop),
        check_drawdown(
            exposure.account.peak_equity,
            exposure.equity,
            exposure.drawdown_percent,
            limits.max_drawdown_percent,
            at_stop,
        ),
        check_correlation(
            signal,
            instrument,
            limits.max_correlation_exposure,
            client.books,
            client.reservations,
            client.catalog,
        ),
        check_platform_position_size(signal.volume, caps.max_position_size),
        check_platform_exposure(
            platform.gross_exposure + platform.reserved_exposure, value, caps.max_total_exposure
        ),
        check_platform_positions(
            platform.open_positions + platform.reserved_positions, caps.max_open_positions
        ),
        check_platform_daily_loss(platform.daily_pnl, caps.max_daily_loss),
        check_instrument_concentration(
            signal.symbol, platform.instrument_volume, signal.volume, caps.instrument_volume_cap
        ),
    )


def evaluate(
    signal: Signal,
    instrument: Instrument,
    profile: RiskProfile,
    client: ClientState,
    platform: PlatformState,
    guards: GuardState = NO_GUARDS,
) -> CheckResult:
    """Run every check (no short-circuit); passes when none is violated.

    Headroom is reported for every check in LimitCheck order: `used` is the usage before
    the signal and `remaining` = max(limit − used, 0). TRADING_HALTED reports limit 1 and
    used 1 when trading is blocked for this signal, else 0 (a violation: limit 1, current
    1). The per-signal size checks
    report used 0, so `remaining` is the largest volume allowed. MAX_DAILY_LOSS without a
    cap reports limit and remaining as None. The protections read `guards` (the client's
    streak, rate bucket and week) and report limit None while switched off.
    """
    outcomes = run_checks(signal, instrument, profile, client, platform)
    # The protection checks build on this module's outcome types, hence the late import.
    from domain.guards import run_guards

    outcomes += run_guards(signal, instrument, profile, client, guards)
    violations = tuple(o.violation for o in outcomes if o.violation is not None)
    return CheckResult(
        passes=not violations,
        volume=signal.volume,
        notional=signal_notional(signal, instrument),
        violations=violations,
        headroom=tuple(o.headroom for o in outcomes),
    )
