"""Limit checks of a signal: each check at its boundary, composition and properties."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.checks import (
    CheckResult,
    ClientState,
    Headroom,
    LimitCheck,
    PlatformState,
    Signal,
    check_correlation,
    check_daily_loss,
    check_drawdown,
    check_instrument_concentration,
    check_open_positions,
    check_platform_daily_loss,
    check_platform_exposure,
    check_platform_position_size,
    check_platform_positions,
    check_position_size,
    check_trading_mode,
    evaluate,
    loss_at_stop,
    signal_notional,
)
from domain.correlation import correlation_ratio, correlation_sums
from domain.equity import AccountState
from domain.exposure import Reservation, client_exposure
from domain.instruments import Instrument
from domain.limits import PlatformLimits
from domain.positions import PositionBook, book_notional
from domain.profile import RiskLimits, RiskProfile
from domain.values import Direction, TradingMode

D = Decimal
BUY = Direction.BUY
SELL = Direction.SELL
EXPIRES = datetime(2030, 1, 1, tzinfo=UTC)

EURUSD = Instrument("EURUSD", "FX_MAJORS", D(100_000))
GBPUSD = Instrument("GBPUSD", "FX_MAJORS", D(100_000))
USDJPY = Instrument("USDJPY", "FX_MAJORS", D(100_000), D("0.0067"), mark_price=D("150.25"))
XAUUSD = Instrument("XAUUSD", "METALS", D(100), mark_price=D("2000.50"))
US30 = Instrument("US30", "INDICES", D(1))
GER40 = Instrument("GER40", "INDICES", D(1), D("1.08"))
CATALOG: dict[str, Instrument] = {
    i.symbol: i for i in (EURUSD, GBPUSD, USDJPY, XAUUSD, US30, GER40)
}


def book(
    symbol: str, direction: Direction, volume: str, entry: str, count: int = 1
) -> PositionBook:
    v = D(volume)
    return PositionBook(symbol, direction, v, v * D(entry), count)


def reservation(symbol: str, direction: Direction, volume: str, value: str) -> Reservation:
    return Reservation(
        f"r-{symbol}-{volume}", "c1", symbol, direction, D(volume), D(value), EXPIRES
    )


def client(
    books: Sequence[PositionBook] = (),
    reservations: Sequence[Reservation] = (),
    *,
    balance: str = "10000",
    peak: str | None = None,
    realized_today: str = "0",
    catalog: Mapping[str, Instrument] = CATALOG,
) -> ClientState:
    account = AccountState(balance=D(balance), peak_equity=D(peak if peak else balance))
    exposure = client_exposure("c1", books, catalog, account, reservations, D(realized_today))
    return ClientState(exposure, tuple(books), tuple(reservations), catalog)


def platform(
    limits: PlatformLimits | None = None,
    *,
    open_positions: int = 0,
    gross: str = "0",
    reserved_positions: int = 0,
    reserved: str = "0",
    instrument_volume: str = "0",
    daily_pnl: str = "0",
) -> PlatformState:
    return PlatformState(
        limits or PlatformLimits(),
        open_positions,
        D(gross),
        reserved_positions,
        D(reserved),
        D(instrument_volume),
        D(daily_pnl),
    )


def signal(
    symbol: str = "EURUSD",
    direction: Direction = BUY,
    volume: str = "0.10",
    entry: str = "1.1000",
    stop: str | None = None,
) -> Signal:
    return Signal("s1", "c1", symbol, direction, D(volume), D(entry), D(stop) if stop else None)


def profile(mode: TradingMode = TradingMode.ACTIVE, **limits: Any) -> RiskProfile:
    return RiskProfile("c1", RiskLimits(**limits), mode)


def run(
    sig: Signal,
    prof: RiskProfile | None = None,
    state: ClientState | None = None,
    plat: PlatformState | None = None,
) -> CheckResult:
    return evaluate(
        sig, CATALOG[sig.symbol], prof or profile(), state or client(), plat or platform()
    )


def failed(result: CheckResult) -> list[LimitCheck]:
    return [v.check for v in result.violations]


def test_limit_check_order() -> None:
    assert [c.value for c in LimitCheck] == [
        "TRADING_HALTED",
        "MAX_OPEN_POSITIONS",
        "MAX_POSITION_SIZE",
        "MAX_DAILY_LOSS",
        "MAX_DRAWDOWN",
        "CORRELATION_EXPOSURE",
        "PLATFORM_POSITION_SIZE",
        "PLATFORM_EXPOSURE",
        "PLATFORM_POSITIONS",
        "PLATFORM_DAILY_LOSS",
        "INSTRUMENT_CONCENTRATION",
        "MAX_LEVERAGE",
        "MAX_WEEKLY_LOSS",
        "COOLDOWN",
        "SIGNAL_RATE",
        "INSTRUMENT_NOT_ALLOWED",
    ]


def test_clean_signal_passes_with_headroom_for_every_check() -> None:
    result = run(signal(volume="0.40", entry="1.1000"))
    assert result.passes
    assert result.violations == ()
    assert result.volume == D("0.40")
    assert result.notional == D("44000")
    assert [h.check for h in result.headroom] == list(LimitCheck)
    rooms = {h.check: h for h in result.headroom}
    assert rooms[LimitCheck.TRADING_HALTED] == Headroom(LimitCheck.TRADING_HALTED, D(1), D(0), D(1))
    assert rooms[LimitCheck.MAX_OPEN_POSITIONS] == Headroom(
        LimitCheck.MAX_OPEN_POSITIONS, D(5), D(0), D(5)
    )
    assert rooms[LimitCheck.MAX_DAILY_LOSS] == Headroom(LimitCheck.MAX_DAILY_LOSS, None, D(0), None)
    assert rooms[LimitCheck.PLATFORM_EXPOSURE].remaining == D(500_000)
    assert rooms[LimitCheck.INSTRUMENT_CONCENTRATION].limit == D(500)


def test_headroom_remaining_never_negative() -> None:
    outcome = check_platform_positions(60, 50)
    assert outcome.headroom == Headroom(LimitCheck.PLATFORM_POSITIONS, D(50), D(60), D(0))


def test_signal_notional_and_loss_at_stop_use_contract_and_rate() -> None:
    sig = signal("USDJPY", BUY, "0.50", "150.00", "149.00")
    assert signal_notional(sig, USDJPY) == D("0.50") * 100_000 * D("150.00") * D("0.0067")
    assert loss_at_stop(sig, USDJPY) == D(1) * D("0.50") * 100_000 * D("0.0067")


def test_loss_at_stop_by_direction() -> None:
    assert loss_at_stop(signal(direction=BUY, entry="1.1000", stop="1.0950"), EURUSD) == D(50)
    assert loss_at_stop(signal(direction=SELL, entry="1.1000", stop="1.1050"), EURUSD) == D(50)
    # A stop on the profit side risks nothing.
    assert loss_at_stop(signal(direction=BUY, entry="1.1000", stop="1.1050"), EURUSD) == 0
    assert loss_at_stop(signal(direction=SELL, entry="1.1000", stop="1.0950"), EURUSD) == 0
    assert loss_at_stop(signal(), EURUSD) is None


@pytest.mark.parametrize(
    ("platform_mode", "client_mode"),
    [
        (TradingMode.HALTED, TradingMode.ACTIVE),
        (TradingMode.ACTIVE, TradingMode.HALTED),
        (TradingMode.HALTED, TradingMode.REDUCE_ONLY),
        (TradingMode.REDUCE_ONLY, TradingMode.HALTED),
    ],
)
def test_halted_blocks_even_a_reducing_signal(
    platform_mode: TradingMode, client_mode: TradingMode
) -> None:
    books = (book("EURUSD", SELL, "1.00", "1.1000"),)
    outcome = check_trading_mode(signal(volume="0.10"), platform_mode, client_mode, books)
    assert outcome.violation is not None
    assert "halted" in outcome.violation.message
    assert (outcome.violation.limit, outcome.violation.current) == (D(1), D(1))
    assert outcome.headroom == Headroom(LimitCheck.TRADING_HALTED, D(1), D(1), D(0))


def test_active_passes() -> None:
    outcome = check_trading_mode(signal(), TradingMode.ACTIVE, TradingMode.ACTIVE, ())
    assert outcome.passes
    assert outcome.headroom.used == 0


@pytest.mark.parametrize(
    ("platform_mode", "client_mode"),
    [
        (TradingMode.REDUCE_ONLY, TradingMode.ACTIVE),
        (TradingMode.ACTIVE, TradingMode.REDUCE_ONLY),
        (TradingMode.REDUCE_ONLY, TradingMode.REDUCE_ONLY),
    ],
)
def test_reduce_only_allows_reducing_and_blocks_the_rest(
    platform_mode: TradingMode, client_mode: TradingMode
) -> None:
    books = (book("EURUSD", SELL, "1.00", "1.1000", 2), book("EURUSD", BUY, "3.00", "1.1"))
    plat = platform(PlatformLimits(trading_mode=platform_mode))
    prof = profile(client_mode, max_position_size=D(10), max_correlation_exposure=D(1))
    state = client(books)

    reducing = run(signal(direction=BUY, volume="1.00"), prof, state, plat)
    assert LimitCheck.TRADING_HALTED not in failed(reducing)

    too_big = run(signal(direction=BUY, volume="1.01"), prof, state, plat)
    assert failed(too_big) == [LimitCheck.TRADING_HALTED]
    assert "reduce-only" in too_big.violations[0].message

    # The BUY book exists, but a SELL of 3.00 would need 3.00 of BUY: it reduces too.
    assert run(signal(direction=SELL, volume="3.00"), prof, state, plat).passes
    other_symbol = run(signal("GBPUSD", BUY, "0.10"), prof, state, plat)
    assert failed(other_symbol) == [LimitCheck.TRADING_HALTED]


def test_reduce_only_ignores_reservations_and_empty_books() -> None:
    held = (reservation("EURUSD", SELL, "1.00", "110000"),)
    closed = (PositionBook("EURUSD", SELL, D(0), D(0), 0),)
    for books in ((), closed):
        outcome = check_trading_mode(
            signal(direction=BUY, volume="0.10"),
            TradingMode.REDUCE_ONLY,
            TradingMode.ACTIVE,
            books,
        )
        assert not outcome.passes
    state = client((), held)
    prof = profile(TradingMode.REDUCE_ONLY, max_correlation_exposure=D(1))
    assert failed(run(signal(direction=BUY), prof, state)) == [LimitCheck.TRADING_HALTED]


def test_open_positions_boundary() -> None:
    assert check_open_positions(4, 5).passes
    outcome = check_open_positions(5, 5)
    assert outcome.violation is not None
    assert (outcome.violation.limit, outcome.violation.current) == (D(5), D(6))
    assert outcome.violation.message == (
        "5 of 5 positions already open or reserved; this signal would make 6"
    )
    assert outcome.headroom == Headroom(LimitCheck.MAX_OPEN_POSITIONS, D(5), D(5), D(0))


def test_open_positions_count_reservations() -> None:
    prof = profile(max_correlation_exposure=D(1))
    books = (book("US30", BUY, "1.00", "30000", 3),)
    four = client(books, (reservation("GER40", SELL, "1.00", "1000"),))
    assert run(signal(), prof, four).passes
    five = client(
        books,
        (reservation("GER40", SELL, "1.00", "1000"), reservation("XAUUSD", BUY, "1", "1")),
    )
    result = run(signal(), prof, five)
    assert failed(result) == [LimitCheck.MAX_OPEN_POSITIONS]
    assert result.violations[0].current == 6


def test_position_size_boundary() -> None:
    assert check_position_size(D("1.00"), D("1.00")).passes
    outcome = check_position_size(D("1.01"), D("1.00"))
    assert outcome.violation is not None
    assert outcome.violation.current == D("1.01")
    assert outcome.headroom == Headroom(LimitCheck.MAX_POSITION_SIZE, D(1), D(0), D(1))
    assert failed(run(signal(volume="1.01"))) == [LimitCheck.MAX_POSITION_SIZE]
    assert run(signal(volume="1.00")).passes


def test_platform_position_size_boundary() -> None:
    assert check_platform_position_size(D("100.00"), D(100)).passes
    assert not check_platform_position_size(D("100.01"), D(100)).passes
    prof = profile(max_position_size=D(100))
    plat = platform(PlatformLimits(max_position_size=D("2.00"), max_total_exposure=D(10**9)))
    assert run(signal(volume="2.00"), prof, plat=plat).passes
    assert failed(run(signal(volume="2.01"), prof, plat=plat)) == [
        LimitCheck.PLATFORM_POSITION_SIZE
    ]


def test_daily_loss_without_cap_never_fails() -> None:
    outcome = check_daily_loss(D(-1_000_000), None, D(500))
    assert outcome.passes
    assert outcome.headroom == Headroom(LimitCheck.MAX_DAILY_LOSS, None, D(1_000_000), None)


def test_daily_loss_at_cap_fails() -> None:
    assert check_daily_loss(D("-499.99"), D(500), None).passes
    outcome = check_daily_loss(D(-500), D(500), None)
    assert outcome.violation is not None
    assert outcome.violation.current == D(500)
    assert outcome.headroom == Headroom(LimitCheck.MAX_DAILY_LOSS, D(500), D(500), D(0))
    # A profitable day has no loss at all.
    assert check_daily_loss(D(10_000), D(500), None).headroom.used == 0


def test_daily_loss_with_stop_boundary() -> None:
    # 0.10 EURUSD lots: every 0.0001 of stop distance risks 1.00.
    prof = profile(max_daily_loss=D(500))
    state = client(realized_today="-300")
    on_cap = run(signal(entry="1.1000", stop="1.0800"), prof, state)
    assert on_cap.passes
    over = run(signal(entry="1.1000", stop="1.079999"), prof, state)
    assert failed(over) == [LimitCheck.MAX_DAILY_LOSS]
    assert over.violations[0].current == D("500.01")
    assert over.violations[0].limit == D(500)
    # A stop on the profit side adds no risk.
    assert run(signal(entry="1.1000", stop="1.2000"), prof, state).passes


def test_daily_loss_already_at_cap_fails_with_stop_and_reports_total() -> None:
    outcome = check_daily_loss(D(-500), D(500), D(20))
    assert outcome.violation is not None
    assert outcome.violation.current == D(520)


def test_drawdown_boundary_without_stop() -> None:
    prof = profile()
    assert run(signal(), prof, client(balance="8000.01", peak="10000")).passes
    result = run(signal(), prof, client(balance="8000", peak="10000"))
    assert failed(result) == [LimitCheck.MAX_DRAWDOWN]
    assert result.violations[0].current == D(20)
    rooms = {h.check: h for h in result.headroom}
    assert rooms[LimitCheck.MAX_DRAWDOWN] == Headroom(LimitCheck.MAX_DRAWDOWN, D(20), D(20), D(0))


def test_drawdown_after_stop_boundary() -> None:
    assert check_drawdown(D(10_000), D(9_000), D(10), D(20), D(1_000)).passes
    outcome = check_drawdown(D(10_000), D(9_000), D(10), D(20), D("1000.01"))
    assert outcome.violation is not None
    assert outcome.violation.current == D("20.0001")
    assert outcome.headroom.used == D(10)
    # Through evaluate: 10 % down, 0.10 lots with a 0.1000 stop distance risks 1,000.
    state = client(balance="9000", peak="10000")
    assert run(signal(entry="1.2000", stop="1.1000"), profile(), state).passes
    over = run(signal(entry="1.2000", stop="1.099999"), profile(), state)
    assert failed(over) == [LimitCheck.MAX_DRAWDOWN]


def test_drawdown_without_positive_peak_is_zero() -> None:
    assert check_drawdown(D(0), D(0), D(0), D(1), D(1_000_000)).passes
    assert check_drawdown(D(-5), D(-5), D(0), D(1), D(10)).passes


def test_correlation_boundary_includes_the_signal() -> None:
    prof = profile(max_position_size=D(10))
    state = client((book("US30", BUY, "1.00", "30000"),))
    # 70,000 of FX_MAJORS against 100,000 gross: exactly the 0.70 limit.
    at_limit = run(signal(volume="0.70", entry="1.0"), prof, state)
    assert at_limit.passes
    over = run(signal(volume="0.71", entry="1.0"), prof, state)
    assert failed(over) == [LimitCheck.CORRELATION_EXPOSURE]
    assert over.violations[0].current == D(71_000) / D(101_000)
    assert over.violations[0].limit == D("0.70")


def test_correlation_hedge_lowers_the_ratio() -> None:
    prof = profile(max_position_size=D(10))
    unhedged = client((book("US30", BUY, "1.00", "30000"),))
    assert failed(run(signal(volume="1.00", entry="1.0"), prof, unhedged)) == [
        LimitCheck.CORRELATION_EXPOSURE
    ]
    hedged = client((book("US30", BUY, "1.00", "30000"), book("GBPUSD", SELL, "1.00", "1.0")))
    result = run(signal(volume="1.00", entry="1.0"), prof, hedged)
    assert result.passes
    rooms = {h.check: h for h in result.headroom}
    # Before the signal the SELL alone was 100,000 of 130,000.
    assert rooms[LimitCheck.CORRELATION_EXPOSURE].used == D(100_000) / D(130_000)


def test_correlation_counts_reservations_and_their_direction() -> None:
    prof = profile(max_position_size=D(10))
    same = client((), (reservation("GBPUSD", BUY, "1.00", "100000"),))
    result = run(signal(volume="1.00", entry="1.0"), prof, same)
    assert failed(result) == [LimitCheck.CORRELATION_EXPOSURE]
    assert result.violations[0].current == 1
    hedge = client((), (reservation("GBPUSD", SELL, "1.00", "100000"),))
    assert run(signal(volume="1.00", entry="1.0"), prof, hedge).passes


def test_correlation_uses_marks_for_open_books() -> None:
    books = (book("XAUUSD", BUY, "1.00", "1000"),)
    net, gross = correlation_sums("METALS", books, (), CATALOG)
    assert net == gross == D("2000.50") * 100
    assert net == book_notional(books[0], XAUUSD)


def test_correlation_skipped_without_positions() -> None:
    prof = profile(max_position_size=D(10), max_correlation_exposure=D("0.01"))
    assert run(signal(volume="1.00"), prof, client()).passes
    empty_book = client((PositionBook("GBPUSD", BUY),))
    assert run(signal(volume="1.00"), prof, empty_book).passes


def test_correlation_off_at_one() -> None:
    state = client((book("GBPUSD", BUY, "1.00", "1.0"),))
    assert failed(run(signal(), profile(), state)) == [LimitCheck.CORRELATION_EXPOSURE]
    assert run(signal(), profile(max_correlation_exposure=D("1.00")), state).passes
    off = check_correlation(signal(), EURUSD, D(1), state.books, (), CATALOG)
    assert off.passes
    assert off.headroom == Headroom(LimitCheck.CORRELATION_EXPOSURE, D(1), D(1), D(0))


def test_correlation_other_group_signal_dilutes() -> None:
    state = client((book("GBPUSD", BUY, "1.00", "1.0"),))
    # A METALS signal: its own group is only the signal's 100,000 of 200,000.
    sig = signal("XAUUSD", BUY, "0.50", "2000")
    assert run(sig, profile(), state).passes


def test_platform_exposure_boundary() -> None:
    plat = platform(gross="400000", reserved="90000")
    assert run(signal(volume="0.10", entry="1.0"), plat=plat).passes
    over = run(signal(volume="0.10", entry="1.0000001"), plat=plat)
    assert failed(over) == [LimitCheck.PLATFORM_EXPOSURE]
    assert over.violations[0].current == D("500000.001")
    assert check_platform_exposure(D(490_000), D(10_000), D(500_000)).passes
    outcome = check_platform_exposure(D(490_000), D("10000.01"), D(500_000))
    assert outcome.violation is not None
    assert outcome.headroom == Headroom(
        LimitCheck.PLATFORM_EXPOSURE, D(500_000), D(490_000), D(10_000)
    )


def test_platform_positions_boundary() -> None:
    assert run(signal(), plat=platform(open_positions=30, reserved_positions=19)).passes
    result = run(signal(), plat=platform(open_positions=30, reserved_positions=20))
    assert failed(result) == [LimitCheck.PLATFORM_POSITIONS]
    assert result.violations[0].current == 51
    assert result.violations[0].message == (
        "50 of 50 platform positions already open or reserved; this signal would make 51"
    )


def test_platform_daily_loss_boundary() -> None:
    assert run(signal(), plat=platform(daily_pnl="-49999.99")).passes
    assert run(signal(), plat=platform(daily_pnl="80000")).passes
    result = run(signal(), plat=platform(daily_pnl="-50000"))
    assert failed(result) == [LimitCheck.PLATFORM_DAILY_LOSS]
    assert result.violations[0].current == D(50_000)
    assert check_platform_daily_loss(D(-60_000), D(50_000)).headroom.remaining == 0


def test_instrument_concentration_boundary() -> None:
    assert run(signal(volume="0.10"), plat=platform(instrument_volume="499.90")).passes
    result = run(signal(volume="0.10"), plat=platform(instrument_volume="499.91"))
    assert failed(result) == [LimitCheck.INSTRUMENT_CONCENTRATION]
    assert result.violations[0].current == D("500.01")
    capped = PlatformLimits(max_instrument_volume=D(2))
    assert check_instrument_concentration("EURUSD", D("1.90"), D("0.10"), D(2)).passes
    assert not run(signal(volume="0.10"), plat=platform(capped, instrument_volume="1.91")).passes


def test_every_violation_is_reported_together() -> None:
    prof = profile(TradingMode.HALTED, max_daily_loss=D(100), max_open_positions=1)
    state = client(
        (book("GBPUSD", BUY, "1.00", "1.0"),),
        balance="5000",
        peak="10000",
        realized_today="-100",
    )
    plat = platform(
        PlatformLimits(trading_mode=TradingMode.HALTED, max_position_size=D(1)),
        open_positions=50,
        gross="500000",
        daily_pnl="-50000",
        instrument_volume="5",
    )
    result = run(signal(volume="1.50", entry="1.0", stop="0.99"), prof, state, plat)
    assert not result.passes
    # The protections are off in this profile (tests/domain/test_protections.py covers them).
    assert failed(result) == list(LimitCheck)[: list(LimitCheck).index(LimitCheck.MAX_LEVERAGE)]
    assert all(v.message for v in result.violations)
    assert [h.check for h in result.headroom] == list(LimitCheck)


SYMBOLS = sorted(CATALOG)
DIRECTIONS = list(Direction)


def cents(low: int, high: int) -> st.SearchStrategy[Decimal]:
    """Decimals from low/100 to high/100 in steps of 0.01."""
    return st.integers(low, high).map(lambda n: D(n) / 100)


def mostly(loose: st.SearchStrategy[Any], tight: st.SearchStrategy[Any]) -> Any:
    # Loose values three times in four, so that enough generated signals pass every check.
    return st.one_of(loose, loose, loose, tight)


lots = mostly(cents(1, 500), cents(1, 10_000))
prices = mostly(cents(50, 500), cents(1, 30_000))
modes = st.sampled_from([TradingMode.ACTIVE] * 8 + [TradingMode.REDUCE_ONLY, TradingMode.HALTED])


@st.composite
def books_strategy(draw: st.DrawFn) -> tuple[PositionBook, ...]:
    keys = draw(
        st.lists(
            st.tuples(st.sampled_from(SYMBOLS), st.sampled_from(DIRECTIONS)),
            max_size=6,
            unique=True,
        )
    )
    out = []
    for symbol, direction in keys:
        count = draw(st.integers(0, 3))
        if count == 0:
            out.append(PositionBook(symbol, direction))
            continue
        volume = draw(lots)
        mark = CATALOG[symbol].mark_price
        # Near its mark, so that unrealized P&L stays in proportion with the account.
        entry = draw(prices if mark is None else mostly(cents(99, 101).map(mark.__mul__), prices))
        out.append(PositionBook(symbol, direction, volume, volume * entry, count))
    return tuple(out)


@st.composite
def reservations_strategy(draw: st.DrawFn) -> tuple[Reservation, ...]:
    rows = draw(
        st.lists(
            st.tuples(st.sampled_from(SYMBOLS), st.sampled_from(DIRECTIONS), lots, prices),
            max_size=4,
        )
    )
    return tuple(
        Reservation(f"r{i}", "c1", s, d, v, v * p * CATALOG[s].contract_size, EXPIRES)
        for i, (s, d, v, p) in enumerate(rows)
    )


@st.composite
def signal_strategy(draw: st.DrawFn) -> Signal:
    entry = draw(prices)
    near = st.tuples(cents(1, 50), st.sampled_from((1, -1))).map(
        lambda t: entry + t[0] / 1000 * t[1] if entry + t[0] / 1000 * t[1] > 0 else entry + t[0]
    )
    stop = draw(st.none() | mostly(near, prices.filter(lambda p: p != entry)))
    return Signal(
        "s1",
        "c1",
        draw(st.sampled_from(SYMBOLS)),
        draw(st.sampled_from(DIRECTIONS)),
        draw(lots),
        entry,
        stop,
    )


@st.composite
def profile_strategy(draw: st.DrawFn) -> RiskProfile:
    limits = RiskLimits(
        max_drawdown_percent=draw(mostly(cents(5_000, 10_000), cents(100, 10_000))),
        max_daily_loss=draw(st.none() | mostly(cents(10**7, 10**8), cents(1, 10**7))),
        max_position_size=draw(mostly(cents(5_000, 10_000), cents(1, 10_000))),
        max_open_positions=draw(mostly(st.integers(30, 1000), st.integers(1, 20))),
        max_correlation_exposure=draw(mostly(cents(90, 100), cents(1, 100))),
    )
    return RiskProfile("c1", limits, draw(modes))


@st.composite
def platform_strategy(draw: st.DrawFn) -> PlatformState:
    limits = PlatformLimits(
        max_total_exposure=draw(mostly(st.integers(10**10, 10**12), st.integers(1, 10**9)).map(D)),
        max_open_positions=draw(mostly(st.integers(100, 1000), st.integers(1, 60))),
        max_position_size=draw(mostly(st.just(D(100)), cents(1, 10_000))),
        max_daily_loss=draw(mostly(st.integers(10**6, 10**7), st.integers(1, 100_000)).map(D)),
        max_instrument_volume=draw(st.none() | mostly(cents(10**5, 10**7), cents(1, 100_000))),
        trading_mode=draw(modes),
    )
    return PlatformState(
        limits,
        draw(mostly(st.integers(0, 20), st.integers(0, 60))),
        draw(st.integers(0, 10**9).map(D)),
        draw(st.integers(0, 10)),
        draw(st.integers(0, 10**8).map(D)),
        draw(mostly(cents(0, 10_000), cents(0, 100_000))),
        draw(cents(-5_000_000, 5_000_000)),
    )


@st.composite
def client_strategy(draw: st.DrawFn) -> ClientState:
    books = draw(books_strategy())
    reservations = draw(reservations_strategy())
    balance = draw(mostly(cents(10**7, 10**10), cents(-5_000_000, 5_000_000)))
    peak = max(balance + draw(mostly(cents(0, 100_000), cents(0, 2_000_000))), D(0))
    account = AccountState(balance=balance, peak_equity=peak)
    realized_today = draw(cents(-5_000_000, 5_000_000))
    exposure = client_exposure("c1", books, CATALOG, account, reservations, realized_today)
    return ClientState(exposure, books, reservations, CATALOG)


def _expected_failures(
    sig: Signal, prof: RiskProfile, state: ClientState, plat: PlatformState
) -> set[LimitCheck]:
    """The checks table (docs/rules.md), recomputed with the signal added to the book."""
    inst = CATALOG[sig.symbol]
    limits = prof.limits
    caps = plat.limits
    scale = inst.contract_size * inst.quote_to_account_rate
    value = sig.volume * sig.entry_price * scale
    at_stop = None
    if sig.stop_loss is not None:
        at_stop = max(
            (sig.entry_price - sig.stop_loss) * sig.direction.sign * sig.volume * scale, D(0)
        )
    bad: set[LimitCheck] = set()

    modes_ = (caps.trading_mode, prof.trading_mode)
    opposite = sum(
        (
            b.volume
            for b in state.books
            if b.count and b.symbol == sig.symbol and b.direction != sig.direction
        ),
        D(0),
    ) - sum(
        (
            r.volume
            for r in state.reservations
            if r.symbol == sig.symbol and r.direction == sig.direction
        ),
        D(0),
    )
    if TradingMode.HALTED in modes_ or (
        TradingMode.REDUCE_ONLY in modes_ and opposite < sig.volume
    ):
        bad.add(LimitCheck.TRADING_HALTED)

    positions = sum(b.count for b in state.books) + len(state.reservations)
    if positions + 1 > limits.max_open_positions:
        bad.add(LimitCheck.MAX_OPEN_POSITIONS)
    if sig.volume > limits.max_position_size:
        bad.add(LimitCheck.MAX_POSITION_SIZE)

    exposure = state.exposure
    lost = max(-exposure.daily_pnl, D(0))
    cap = limits.max_daily_loss
    if cap is not None and (lost >= cap or (at_stop is not None and lost + at_stop > cap)):
        bad.add(LimitCheck.MAX_DAILY_LOSS)

    peak, equity = exposure.account.peak_equity, exposure.equity
    after_dd = D(0) if peak <= 0 else (peak - (equity - (at_stop or 0))) / peak * 100
    if exposure.drawdown_percent >= limits.max_drawdown_percent or (
        at_stop is not None and after_dd > limits.max_drawdown_percent
    ):
        bad.add(LimitCheck.MAX_DRAWDOWN)

    held = [
        (b.symbol, b.direction, book_notional(b, CATALOG[b.symbol])) for b in state.books if b.count
    ]
    held += [(r.symbol, r.direction, r.notional) for r in state.reservations]
    if held and limits.max_correlation_exposure < 1:
        after = [*held, (sig.symbol, sig.direction, value)]
        group = inst.correlation_group
        net = sum((v * d.sign for s, d, v in after if CATALOG[s].correlation_group == group), D(0))
        gross = sum((v for _, _, v in after), D(0))
        if abs(net) / gross > limits.max_correlation_exposure:
            bad.add(LimitCheck.CORRELATION_EXPOSURE)

    if sig.volume > caps.max_position_size:
        bad.add(LimitCheck.PLATFORM_POSITION_SIZE)
    if plat.gross_exposure + plat.reserved_exposure + value > caps.max_total_exposure:
        bad.add(LimitCheck.PLATFORM_EXPOSURE)
    if plat.open_positions + plat.reserved_positions + 1 > caps.max_open_positions:
        bad.add(LimitCheck.PLATFORM_POSITIONS)
    if max(-plat.daily_pnl, D(0)) >= caps.max_daily_loss:
        bad.add(LimitCheck.PLATFORM_DAILY_LOSS)
    if plat.instrument_volume + sig.volume > caps.instrument_volume_cap:
        bad.add(LimitCheck.INSTRUMENT_CONCENTRATION)
    return bad


@settings(max_examples=200, deadline=None)
@given(signal_strategy(), profile_strategy(), client_strategy(), platform_strategy())
def test_passing_signal_never_exceeds_a_limit(
    sig: Signal, prof: RiskProfile, state: ClientState, plat: PlatformState
) -> None:
    result = evaluate(sig, CATALOG[sig.symbol], prof, state, plat)
    expected = _expected_failures(sig, prof, state, plat)
    assert set(failed(result)) == expected
    assert result.passes == (not expected)
    assert [h.check for h in result.headroom] == list(LimitCheck)
    for room in result.headroom:
        if room.limit is not None:
            assert room.remaining == max(room.limit - room.used, D(0))


@settings(max_examples=200, deadline=None)
@given(
    signal_strategy(),
    books_strategy(),
    reservations_strategy(),
    st.integers(1, 100).map(lambda n: D(n) / 100),
)
def test_correlation_ratio_within_unit_interval(
    sig: Signal, books: tuple[PositionBook, ...], held: tuple[Reservation, ...], limit: Decimal
) -> None:
    inst = CATALOG[sig.symbol]
    net, gross = correlation_sums(inst.correlation_group, books, held, CATALOG)
    assert 0 <= correlation_ratio(net, gross) <= 1
    outcome = check_correlation(sig, inst, limit, books, held, CATALOG)
    assert 0 <= outcome.headroom.used <= 1
    if outcome.violation is not None:
        assert limit < outcome.violation.current <= 1


@settings(max_examples=200, deadline=None)
@given(
    signal_strategy(),
    profile_strategy(),
    client_strategy(),
    platform_strategy(),
    st.randoms(use_true_random=False),
)
def test_result_independent_of_book_and_reservation_order(
    sig: Signal,
    prof: RiskProfile,
    state: ClientState,
    plat: PlatformState,
    rng: random.Random,
) -> None:
    books = list(state.books)
    held = list(state.reservations)
    rng.shuffle(books)
    rng.shuffle(held)
    realized_today = state.exposure.daily_pnl - state.exposure.totals.unrealized
    exposure = client_exposure("c1", books, CATALOG, state.exposure.account, held, realized_today)
    shuffled = replace(state, exposure=exposure, books=tuple(books), reservations=tuple(held))
    inst = CATALOG[sig.symbol]
    assert evaluate(sig, inst, prof, shuffled, plat) == evaluate(sig, inst, prof, state, plat)


def test_reduce_only_counts_reducing_reservations_already_held() -> None:
    books = (PositionBook("EURUSD", Direction.SELL, Decimal("0.10"), Decimal("0.11"), 1),)
    held = Reservation(
        "r1", "c1", "EURUSD", Direction.BUY, Decimal("0.10"), Decimal(11000), datetime.now(UTC)
    )
    alone = check_trading_mode(
        signal(volume="0.10"), TradingMode.REDUCE_ONLY, TradingMode.ACTIVE, books
    )
    assert alone.passes
    second = check_trading_mode(
        signal(volume="0.10"), TradingMode.REDUCE_ONLY, TradingMode.ACTIVE, books, (held,)
    )
    assert not second.passes
