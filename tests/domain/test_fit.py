"""Fitting a signal's volume: properties against a brute-force scan of the lot grid."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.checks import (
    CheckResult,
    ClientState,
    LimitCheck,
    PlatformState,
    Signal,
    evaluate,
)
from domain.equity import AccountState
from domain.exposure import Reservation, client_exposure
from domain.fit import FITTABLE, Fitted, correlation_window, fit_signal, fit_volume
from domain.instruments import Instrument
from domain.limits import PlatformLimits
from domain.numbers import LOT_STEP
from domain.positions import PositionBook
from domain.profile import RiskLimits, RiskProfile
from domain.values import Direction, TradingMode

D = Decimal
EXPIRES = datetime(2030, 1, 1, tzinfo=UTC)
EURUSD = Instrument("EURUSD", "FX_MAJORS", D(100_000))
GBPUSD = Instrument("GBPUSD", "FX_MAJORS", D(100_000), mark_price=D("1.2700"))
XAUUSD = Instrument("XAUUSD", "METALS", D(100), mark_price=D("2000.50"))
US30 = Instrument("US30", "INDICES", D(1))
CATALOG = {i.symbol: i for i in (EURUSD, GBPUSD, XAUUSD, US30)}
PRICES = {"EURUSD": D("1.1000"), "GBPUSD": D("1.2650"), "XAUUSD": D("2001.00"), "US30": D(39000)}

lots = st.integers(1, 300).map(lambda k: D(k) / 100)
symbols = st.sampled_from(sorted(CATALOG))
directions = st.sampled_from(list(Direction))


@st.composite
def books(draw: st.DrawFn) -> list[PositionBook]:
    out: dict[tuple[str, Direction], PositionBook] = {}
    for _ in range(draw(st.integers(0, 4))):
        symbol, direction = draw(symbols), draw(directions)
        volume = draw(lots)
        out[(symbol, direction)] = PositionBook(
            symbol, direction, volume, volume * PRICES[symbol], draw(st.integers(1, 3))
        )
    return list(out.values())


@st.composite
def reservations(draw: st.DrawFn) -> list[Reservation]:
    out = []
    for i in range(draw(st.integers(0, 3))):
        symbol, volume = draw(symbols), draw(lots)
        instrument = CATALOG[symbol]
        value = volume * instrument.contract_size * PRICES[symbol]
        out.append(Reservation(f"r{i}", "c1", symbol, draw(directions), volume, value, EXPIRES))
    return out


@st.composite
def scenarios(
    draw: st.DrawFn,
) -> tuple[Signal, Instrument, RiskProfile, ClientState, PlatformState]:
    held_books = draw(books())
    held = draw(reservations())
    balance = D(draw(st.integers(1_000, 500_000)))
    peak = balance + D(draw(st.integers(0, 5_000)))
    realized = D(draw(st.integers(-3_000, 1_000)))
    account = AccountState(balance=balance, peak_equity=peak)
    exposure = client_exposure("c1", held_books, CATALOG, account, held, realized)
    client = ClientState(exposure, tuple(held_books), tuple(held), CATALOG)
    limits = RiskLimits(
        max_drawdown_percent=D(draw(st.integers(1, 100))),
        max_daily_loss=draw(st.none() | st.integers(1, 5_000).map(D)),
        max_position_size=draw(lots),
        max_open_positions=draw(st.integers(1, 40)),
        max_correlation_exposure=draw(st.integers(25, 100).map(lambda c: D(c) / 100)),
    )
    mode = draw(
        st.sampled_from([TradingMode.ACTIVE] * 12 + [TradingMode.REDUCE_ONLY, TradingMode.HALTED])
    )
    profile = RiskProfile("c1", limits, mode)
    # Platform usage first, then caps as usage plus some room (sometimes none).
    gross, reserved = D(draw(st.integers(0, 500_000))), D(draw(st.integers(0, 100_000)))
    on_instrument = D(draw(st.integers(0, 150))) / 100
    positions = draw(st.integers(0, 20))
    daily_pnl = D(draw(st.integers(-20_000, 5_000)))
    caps = PlatformLimits(
        max_total_exposure=gross
        + reserved
        + D(draw(st.just(-1_000) | st.integers(2_000, 800_000))),
        max_open_positions=positions + draw(st.integers(0, 30)),
        max_position_size=draw(lots),
        max_daily_loss=max(-daily_pnl, D(0)) + D(draw(st.integers(-100, 30_000))),
        max_instrument_volume=on_instrument + draw(lots) - LOT_STEP,
    )
    platform = PlatformState(caps, positions, gross, 1, reserved, on_instrument, daily_pnl)
    symbol = draw(symbols)
    entry = PRICES[symbol]
    stop = draw(st.none() | st.sampled_from([entry * D("0.99"), entry * D("1.01")]))
    signal = Signal("s1", "c1", symbol, draw(directions), draw(lots), entry, stop)
    return signal, CATALOG[symbol], profile, client, platform


def brute_force(
    signal: Signal,
    instrument: Instrument,
    profile: RiskProfile,
    client: ClientState,
    platform: PlatformState,
) -> Decimal | None:
    """The largest passing lot multiple ≤ the requested volume, scanning every one."""
    k = int(signal.volume / LOT_STEP)
    while k >= 1:
        volume = LOT_STEP * k
        if evaluate(replace(signal, volume=volume), instrument, profile, client, platform).passes:
            return volume
        k -= 1
    return None


def at(
    volume: Decimal,
    signal: Signal,
    instrument: Instrument,
    profile: RiskProfile,
    client: ClientState,
    platform: PlatformState,
) -> CheckResult:
    return evaluate(replace(signal, volume=volume), instrument, profile, client, platform)


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(scenarios())
def test_fit_matches_a_brute_force_scan(
    case: tuple[Signal, Instrument, RiskProfile, ClientState, PlatformState],
) -> None:
    signal = case[0]
    requested = at(signal.volume, *case)
    fitted = fit_signal(*case)
    assert fitted.requested_volume == signal.volume
    if requested.passes:
        assert fitted == Fitted(requested, signal.volume, ())
        return
    failing = {v.check for v in requested.violations}
    best = brute_force(*case)
    if not failing <= FITTABLE or best is None:
        # Never fitted: the decision is the requested volume's, with its violations.
        assert fitted.result == requested
        assert fitted.fitted_by == ()
        return
    assert fitted.result.volume == best
    assert fitted.result.passes


@SETTINGS
@given(scenarios())
def test_fitted_volume_passes_and_one_step_more_fails_a_binding_check(
    case: tuple[Signal, Instrument, RiskProfile, ClientState, PlatformState],
) -> None:
    signal = case[0]
    fitted = fit_signal(*case)
    volume = fitted.result.volume
    assert volume >= LOT_STEP
    assert volume <= signal.volume
    assert (volume % LOT_STEP).is_zero()
    if volume == signal.volume:
        assert fitted.fitted_by == ()
        return
    assert fitted.result.passes
    assert fitted.fitted_by
    requested_failures = {v.check for v in at(signal.volume, *case).violations}
    assert set(fitted.fitted_by) <= requested_failures
    assert set(fitted.fitted_by) <= FITTABLE
    above = {v.check for v in at(volume + LOT_STEP, *case).violations}
    assert set(fitted.fitted_by) == above


@SETTINGS
@given(scenarios())
def test_unfittable_failures_are_never_fitted(
    case: tuple[Signal, Instrument, RiskProfile, ClientState, PlatformState],
) -> None:
    signal = case[0]
    requested = at(signal.volume, *case)
    fitted = fit_signal(*case)
    if any(v.check not in FITTABLE for v in requested.violations):
        assert fitted.result == requested
        assert not fitted.result.passes
        assert fitted.fitted_by == ()


def hedged_case(volume: str) -> tuple[Signal, Instrument, RiskProfile, ClientState, PlatformState]:
    # 1 lot EURUSD long at 1.10 (110,000) and nothing else: a SELL of EURUSD hedges the
    # group until it over-hedges it. Correlation limit 0.50.
    held = [PositionBook("EURUSD", Direction.BUY, D(1), D("1.1000"), 1)]
    account = AccountState(balance=D(100_000), peak_equity=D(100_000))
    exposure = client_exposure("c1", held, CATALOG, account, [], D(0))
    client = ClientState(exposure, tuple(held), (), CATALOG)
    limits = RiskLimits(max_position_size=D(100), max_correlation_exposure=D("0.50"))
    profile = RiskProfile("c1", limits, TradingMode.ACTIVE)
    platform = PlatformState(
        PlatformLimits(max_total_exposure=D(10**9)), 0, D(0), 0, D(0), D(0), D(0)
    )
    signal = Signal("s1", "c1", "EURUSD", Direction.SELL, D(volume), D("1.1000"), None)
    return signal, EURUSD, profile, client, platform


def test_correlation_window_of_a_hedge() -> None:
    # |110,000 − x| ≤ 0.5 (110,000 + x)  ⇔  x ∈ [36,666.67, 330,000] ⇔ v ∈ [0.3333, 3.00].
    low, high = correlation_window(D(110_000), D(110_000), -1, D(110_000), D("0.50"))
    assert high == D(3)
    assert abs(low - D(1) / 3) < D("1e-30")


def test_an_over_hedge_is_fitted_down_to_the_window() -> None:
    fitted = fit_signal(*hedged_case("5.00"))
    assert fitted.result.passes
    assert fitted.result.volume == D("3.00")
    assert fitted.fitted_by == (LimitCheck.CORRELATION_EXPOSURE,)


def test_a_too_small_hedge_is_not_fitted() -> None:
    # 0.20 lots hedge too little and any smaller volume hedges even less.
    case = hedged_case("0.20")
    fitted = fit_signal(*case)
    assert not fitted.result.passes
    assert fitted.result.volume == D("0.20")
    assert fitted.fitted_by == ()


def test_fit_volume_never_goes_below_the_minimum() -> None:
    calls: list[Decimal] = []

    def always_fails(volume: Decimal) -> CheckResult:
        calls.append(volume)
        violation = evaluate(
            replace(hedged_case("5.00")[0], volume=D(999)), *hedged_case("5.00")[1:]
        ).violations
        return CheckResult(False, volume, volume, violation, ())

    fitted = fit_volume(always_fails, D("1.00"), step=LOT_STEP, minimum=D("0.05"))
    assert fitted.result.volume == D("1.00")
    assert min(calls) >= D("0.05")


@st.composite
def hedges(draw: st.DrawFn) -> tuple[Signal, Instrument, RiskProfile, ClientState, PlatformState]:
    """Only correlation binds: books and reservations in and out of the signal's group."""
    held_books = draw(books())
    held = draw(reservations())
    account = AccountState(balance=D(10**7), peak_equity=D(10**7))
    exposure = client_exposure("c1", held_books, CATALOG, account, held, D(0))
    client = ClientState(exposure, tuple(held_books), tuple(held), CATALOG)
    limit = draw(st.integers(1, 99).map(lambda c: D(c) / 100))
    limits = RiskLimits(
        max_position_size=D(100), max_open_positions=1000, max_correlation_exposure=limit
    )
    profile = RiskProfile("c1", limits, TradingMode.ACTIVE)
    caps = PlatformLimits(max_total_exposure=D(10**12), max_open_positions=10**6)
    platform = PlatformState(caps, 0, D(0), 0, D(0), D(0), D(0))
    symbol = draw(symbols)
    signal = Signal("s1", "c1", symbol, draw(directions), draw(lots), PRICES[symbol], None)
    return signal, CATALOG[symbol], profile, client, platform


@SETTINGS
@given(hedges())
def test_correlation_fit_matches_a_brute_force_scan(
    case: tuple[Signal, Instrument, RiskProfile, ClientState, PlatformState],
) -> None:
    requested = at(case[0].volume, *case)
    fitted = fit_signal(*case)
    best = brute_force(*case)
    if requested.passes or best is None:
        assert fitted.result == requested
        assert fitted.fitted_by == ()
    else:
        assert fitted.result.volume == best
        assert fitted.fitted_by == (LimitCheck.CORRELATION_EXPOSURE,)
