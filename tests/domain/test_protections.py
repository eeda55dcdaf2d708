"""Protections: each rule at its boundary and as properties over generated inputs."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.checks import LimitCheck, evaluate
from domain.errors import BadInput
from domain.guards import (
    check_cooldown,
    check_instrument_lists,
    check_leverage,
    check_signal_rate,
    check_weekly_loss,
)
from domain.profile import RiskProfile
from domain.protections import (
    OPEN_CEILINGS,
    GuardState,
    LossStreak,
    Protections,
    RateBucket,
    apply_protection_changes,
    needs_recount,
    refilled,
    spend,
    streak_after_close,
)
from domain.trading_day import TradingCalendar
from domain.values import Direction
from tests.domain.test_checks import CATALOG, book, client, platform, profile, signal

D = Decimal
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SYMBOLS = sorted(CATALOG)


def money(low: int = 0, high: int = 1_000_000) -> st.SearchStrategy[Decimal]:
    return st.integers(low * 100, high * 100).map(lambda c: D(c) / 100)


# --- leverage ------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(money(), money(), money(-10_000, 100_000), st.integers(1, 1000))
def test_leverage_fails_exactly_above_the_cap(
    gross: Decimal, value: Decimal, equity: Decimal, cap: int
) -> None:
    outcome = check_leverage(gross, value, equity, D(cap))
    expected_fail = equity <= 0 or gross + value > cap * equity
    assert outcome.passes is not expected_fail
    assert outcome.headroom.limit == D(cap)
    if equity > 0:
        assert outcome.headroom.used == gross / equity
        if outcome.violation is not None:
            assert outcome.violation.current == (gross + value) / equity


def test_leverage_at_the_cap_passes_and_off_has_no_limit() -> None:
    assert check_leverage(D(90_000), D(10_000), D(10_000), D(10)).passes
    assert not check_leverage(D(90_000), D("10000.01"), D(10_000), D(10)).passes
    assert not check_leverage(D(0), D(1), D(0), D(10)).passes
    off = check_leverage(D(90_000), D(10**9), D(1), None)
    assert off.passes and off.headroom.limit is None


# --- weekly loss ---------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(money(-100_000, 100_000), money(1, 50_000), st.none() | money(0, 50_000))
def test_weekly_loss_mirrors_the_daily_rule(
    weekly_pnl: Decimal, cap: Decimal, at_stop: Decimal | None
) -> None:
    outcome = check_weekly_loss(weekly_pnl, cap, at_stop)
    lost = max(-weekly_pnl, D(0))
    expected_fail = lost >= cap or (at_stop is not None and lost + at_stop > cap)
    assert outcome.passes is not expected_fail
    assert outcome.headroom.used == lost
    assert outcome.headroom.remaining == max(cap - lost, D(0))
    assert check_weekly_loss(weekly_pnl, None, at_stop).passes


# --- loss streak and cooldown --------------------------------------------------------------


def reference_streak(closes: list[tuple[datetime, Decimal]]) -> LossStreak:
    """The streak read off the full history, closes ordered by closedAt."""
    count = 0
    last_loss = None
    for at, pnl in sorted(closes):
        if pnl < 0:
            count += 1
            last_loss = at
        else:
            count, last_loss = 0, None
    return LossStreak(count, last_loss)


def replay(closes: list[tuple[datetime, Decimal]]) -> LossStreak:
    """The running aggregate, fed the closes in arrival order (a late win counts the later
    closes, as the ledger query does)."""
    streak = LossStreak()
    seen: list[tuple[datetime, Decimal]] = []
    for at, pnl in closes:
        later = 0
        if needs_recount(streak, at, pnl):
            later = sum(1 for other, _ in seen if other > at)
        streak = streak_after_close(streak, at, pnl, later_closes=later)
        seen.append((at, pnl))
    return streak


closes_strategy = st.lists(
    st.tuples(st.integers(0, 10_000), st.sampled_from([D(-50), D(-1), D(0), D(1), D(80)])),
    max_size=25,
    unique_by=lambda c: c[0],
).map(lambda rows: [(T0 + timedelta(minutes=m), pnl) for m, pnl in rows])


@settings(max_examples=400, deadline=None)
@given(closes_strategy, st.randoms(use_true_random=False))
def test_streak_is_the_same_in_any_arrival_order(
    closes: list[tuple[datetime, Decimal]], rnd: random.Random
) -> None:
    expected = reference_streak(closes)
    shuffled = list(closes)
    rnd.shuffle(shuffled)
    got = replay(shuffled)
    assert (got.count, got.last_loss_at) == (expected.count, expected.last_loss_at)


def test_a_win_or_a_flat_close_resets_the_streak() -> None:
    streak = replay([(T0, D(-1)), (T0 + timedelta(minutes=1), D(-1))])
    assert streak.count == 2
    assert replay([(T0, D(-1)), (T0 + timedelta(minutes=1), D(0))]).count == 0
    assert replay([(T0, D(-1)), (T0 + timedelta(minutes=1), D(5))]).count == 0


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10), st.integers(1, 10), st.integers(1, 10_080), st.integers(-20_000, 20_000))
def test_cooldown_holds_for_exactly_its_minutes(
    count: int, limit: int, minutes: int, offset_seconds: int
) -> None:
    last = T0 if count else None
    streak = LossStreak(count, last, last)
    now = T0 + timedelta(minutes=minutes) + timedelta(seconds=offset_seconds)
    outcome = check_cooldown(streak, limit, minutes, now)
    cooling = count >= limit and now < T0 + timedelta(minutes=minutes)
    assert outcome.passes is not cooling
    assert outcome.headroom.used == D(count)
    assert outcome.headroom.remaining == max(D(limit - count), D(0))


def test_cooldown_boundary() -> None:
    streak = LossStreak(3, T0, T0)
    end = T0 + timedelta(minutes=60)
    assert not check_cooldown(streak, 3, 60, end - timedelta(microseconds=1)).passes
    assert check_cooldown(streak, 3, 60, end).passes
    assert check_cooldown(streak, 4, 60, T0).passes
    assert check_cooldown(streak, None, 60, T0).headroom.limit is None


# --- signal rate ---------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 50), st.lists(st.integers(0, 5_000), max_size=200))
def test_token_bucket_never_lets_more_than_the_cap_through_a_burst(
    cap: int, gaps_ms: list[int]
) -> None:
    bucket: RateBucket | None = None
    now = T0
    passed: list[datetime] = []
    for gap in gaps_ms:
        now += timedelta(milliseconds=gap)
        outcome = check_signal_rate(bucket, cap, now)
        assert outcome.passes is (refilled(bucket, cap, now) >= 1)
        if outcome.passes:
            passed.append(now)
        bucket = spend(bucket, cap, now)
        assert D(0) <= bucket.tokens <= D(cap)
    # At most `cap` at any one instant, and the bucket refills at cap per minute.
    for at in set(passed):
        assert passed.count(at) <= cap
    for i, at in enumerate(passed):
        window = [p for p in passed[i:] if p < at + timedelta(seconds=60)]
        assert len(window) <= 2 * cap


def test_signal_rate_boundary() -> None:
    cap = 3
    bucket = None
    results = []
    for _ in range(4):
        results.append(check_signal_rate(bucket, cap, T0).passes)
        bucket = spend(bucket, cap, T0)
    assert results == [True, True, True, False]
    # One token back after a third of the minute; a full bucket after a minute.
    assert not check_signal_rate(bucket, cap, T0 + timedelta(seconds=19)).passes
    assert check_signal_rate(bucket, cap, T0 + timedelta(seconds=20)).passes
    assert refilled(bucket, cap, T0 + timedelta(minutes=5)) == D(cap)
    assert check_signal_rate(None, None, T0).headroom.limit is None


# --- instrument lists ----------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(SYMBOLS),
    st.none() | st.frozensets(st.sampled_from(SYMBOLS)),
    st.frozensets(st.sampled_from(SYMBOLS)),
)
def test_instrument_lists(
    symbol: str, allowed: frozenset[str] | None, blocked: frozenset[str]
) -> None:
    settings_ = Protections(
        allowed_instruments=None if allowed is None else tuple(sorted(allowed)),
        blocked_instruments=tuple(sorted(blocked)),
    )
    outcome = check_instrument_lists(symbol, settings_)
    expected = symbol in blocked or (allowed is not None and symbol not in allowed)
    assert outcome.passes is not expected
    if allowed is None and not blocked:
        assert outcome.headroom.limit is None


# --- settings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [
        ("max_leverage", [D(1), D(1000)], [D("0.99"), D("1000.01")]),
        ("max_weekly_loss", [D("0.01"), D(10**9)], [D(0), D(-1)]),
        ("loss_streak_limit", [1, 100], [0, 101]),
        ("cooldown_minutes", [1, 10_080], [0, 10_081, None]),
        ("max_signals_per_minute", [1, 10_000], [0, 10_001]),
        ("stop_out_on_breach", [True, False], [None]),
    ],
)
def test_ranges(name: str, good: list[object], bad: list[object]) -> None:
    for value in good:
        assert (
            getattr(
                apply_protection_changes(Protections(), {name: value}, catalog=(), ceilings=None),
                name,
            )
            == value
        )
    for value in bad:
        with pytest.raises(BadInput):
            apply_protection_changes(Protections(), {name: value}, catalog=(), ceilings=None)


def test_instrument_lists_are_normalized_and_unknown_symbols_refused() -> None:
    updated = apply_protection_changes(
        Protections(),
        {"allowed_instruments": [" eurusd", "XAUUSD", "EURUSD"], "blocked_instruments": []},
        catalog=SYMBOLS,
        ceilings=None,
    )
    assert updated.allowed_instruments == ("EURUSD", "XAUUSD")
    with pytest.raises(BadInput) as error:
        apply_protection_changes(
            Protections(), {"blocked_instruments": ["NOPE"]}, catalog=SYMBOLS, ceilings=None
        )
    assert error.value.field == "blockedInstruments"


def test_client_ceilings() -> None:
    ceilings = replace(
        OPEN_CEILINGS,
        max_leverage=D(50),
        cooldown_minutes=30,
        allowed_instruments=("EURUSD", "GBPUSD"),
        blocked_instruments=("US30",),
        stop_out_on_breach=True,
    )

    def apply(**changes: object) -> Protections:
        return apply_protection_changes(
            Protections(), dict(changes), catalog=SYMBOLS, ceilings=ceilings
        )

    assert apply(max_leverage=D(50)).max_leverage == D(50)
    for bad in (
        {"max_leverage": D(51)},
        {"max_leverage": None},
        {"cooldown_minutes": 29},
        {"allowed_instruments": ["XAUUSD"]},
        {"allowed_instruments": None},
        {"blocked_instruments": []},
        {"stop_out_on_breach": False},
    ):
        with pytest.raises(BadInput):
            apply(**bad)
    assert apply(allowed_instruments=["EURUSD"], blocked_instruments=["US30", "GER40"])
    # Open ceilings let a client set anything in range.
    assert (
        apply_protection_changes(
            Protections(),
            {"max_leverage": None, "cooldown_minutes": 1},
            catalog=SYMBOLS,
            ceilings=OPEN_CEILINGS,
        ).cooldown_minutes
        == 1
    )


# --- the trading week ----------------------------------------------------------------------

UTC_DESK = TradingCalendar(ZoneInfo("UTC"))
FX_DESK = TradingCalendar(ZoneInfo("America/New_York"), 17)


def test_week_starts() -> None:
    # Monday 00:00 UTC for the default calendar.
    monday = datetime(2026, 3, 2, tzinfo=UTC)
    assert UTC_DESK.start_of(UTC_DESK.week_of(monday)) == monday
    assert UTC_DESK.week_of(monday - timedelta(microseconds=1)) == monday.date() - timedelta(7)
    # Sunday 17:00 New York for an FX desk (EST: 22:00 UTC; after the DST switch, 21:00 UTC).
    sunday_open = datetime(2026, 3, 1, 22, tzinfo=UTC)
    assert FX_DESK.start_of(FX_DESK.week_of(sunday_open)) == sunday_open
    assert FX_DESK.week_of(sunday_open - timedelta(seconds=1)) != FX_DESK.week_of(sunday_open)
    after_dst = datetime(2026, 3, 15, 21, tzinfo=UTC)
    assert FX_DESK.start_of(FX_DESK.week_of(after_dst)) == after_dst


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1)),
    st.sampled_from(["UTC", "America/New_York", "Asia/Tokyo", "Europe/London"]),
    st.integers(0, 23),
)
def test_every_instant_falls_in_one_week_starting_with_the_day_holding_monday_noon(
    naive: datetime, zone: str, hour: int
) -> None:
    calendar = TradingCalendar(ZoneInfo(zone), hour)
    at = naive.replace(tzinfo=UTC)
    week = calendar.week_of(at)
    start = calendar.start_of(week)
    end = calendar.start_of(week + timedelta(days=7))
    assert start <= at < end
    # The week's first trading day holds Monday 12:00 local time.
    tz = ZoneInfo(zone)
    local_start = start.astimezone(tz)
    monday = local_start.date() + timedelta(days=(0 - local_start.weekday()) % 7)
    noon = datetime(monday.year, monday.month, monday.day, 12, tzinfo=tz).astimezone(UTC)
    assert calendar.day_of(noon) == week


# --- in the evaluation ---------------------------------------------------------------------


def protected(**settings_: object) -> RiskProfile:
    return replace(
        profile(max_correlation_exposure=D(1)),
        protections=Protections(**settings_),  # type: ignore[arg-type]
    )


def test_protections_run_in_every_evaluation_and_report_together() -> None:
    prof = protected(
        max_leverage=D(1),
        max_weekly_loss=D(100),
        loss_streak_limit=2,
        max_signals_per_minute=1,
        blocked_instruments=("EURUSD",),
    )
    guards = GuardState(
        now=T0,
        realized_week=D(-200),
        streak=LossStreak(2, T0, T0),
        bucket=RateBucket(D(0), T0),
    )
    state = client((book("XAUUSD", Direction.BUY, "0.01", "2000"),))
    result = evaluate(signal(), CATALOG["EURUSD"], prof, state, platform(), guards)
    assert [v.check for v in result.violations] == [
        LimitCheck.MAX_LEVERAGE,
        LimitCheck.MAX_WEEKLY_LOSS,
        LimitCheck.COOLDOWN,
        LimitCheck.SIGNAL_RATE,
        LimitCheck.INSTRUMENT_NOT_ALLOWED,
    ]
    assert [h.check for h in result.headroom] == list(LimitCheck)
    assert all(v.message for v in result.violations)
    # The same state with every protection off passes them all.
    clean = evaluate(signal(), CATALOG["EURUSD"], profile(), state, platform(), guards)
    assert not {v.check for v in clean.violations} & {
        LimitCheck.MAX_LEVERAGE,
        LimitCheck.MAX_WEEKLY_LOSS,
        LimitCheck.COOLDOWN,
        LimitCheck.SIGNAL_RATE,
        LimitCheck.INSTRUMENT_NOT_ALLOWED,
    }


PROTECTION_CHECKS = list(LimitCheck)[list(LimitCheck).index(LimitCheck.MAX_LEVERAGE) :]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(SYMBOLS),
    st.sampled_from(["0.01", "0.10", "1.00"]),
    st.none() | st.integers(1, 60),
    st.none() | money(1, 2_000),
    money(-3_000, 500),
    st.none() | st.integers(1, 5),
    st.integers(0, 6),
    st.integers(0, 120),
    st.none() | st.integers(1, 5),
    st.none() | st.integers(0, 5),
    st.none() | st.frozensets(st.sampled_from(SYMBOLS)),
    st.frozensets(st.sampled_from(SYMBOLS)),
)
def test_evaluate_reports_exactly_the_protections_that_fail(
    symbol: str,
    volume: str,
    max_leverage: int | None,
    max_weekly_loss: Decimal | None,
    realized_week: Decimal,
    streak_limit: int | None,
    streak: int,
    minutes_since_loss: int,
    rate_cap: int | None,
    tokens: int | None,
    allowed: frozenset[str] | None,
    blocked: frozenset[str],
) -> None:
    instrument = CATALOG[symbol]
    price = instrument.mark_price or D("1.1000")
    sig = signal(symbol, volume=volume, entry=str(price))
    prof = protected(
        max_leverage=None if max_leverage is None else D(max_leverage),
        max_weekly_loss=max_weekly_loss,
        loss_streak_limit=streak_limit,
        cooldown_minutes=60,
        max_signals_per_minute=rate_cap,
        allowed_instruments=None if allowed is None else tuple(sorted(allowed)),
        blocked_instruments=tuple(sorted(blocked)),
    )
    state = client((book("EURUSD", Direction.BUY, "0.50", "1.1000"),), balance="10000")
    last_loss = T0 - timedelta(minutes=minutes_since_loss)
    bucket = None if tokens is None else RateBucket(D(tokens), T0)
    guards = GuardState(
        now=T0,
        realized_week=realized_week,
        streak=LossStreak(streak, last_loss if streak else None, last_loss),
        bucket=bucket,
    )
    result = evaluate(sig, instrument, prof, state, platform(), guards)

    expected: set[LimitCheck] = set()
    exposure = state.exposure
    gross = (
        exposure.totals.gross
        + exposure.reserved_exposure
        + sig.volume * price * (instrument.contract_size * instrument.quote_to_account_rate)
    )
    if max_leverage is not None and (
        exposure.equity <= 0 or gross > max_leverage * exposure.equity
    ):
        expected.add(LimitCheck.MAX_LEVERAGE)
    weekly_loss = max(-(exposure.totals.unrealized + realized_week), D(0))
    if max_weekly_loss is not None and weekly_loss >= max_weekly_loss:
        expected.add(LimitCheck.MAX_WEEKLY_LOSS)
    if streak_limit is not None and streak >= streak_limit and minutes_since_loss < 60:
        expected.add(LimitCheck.COOLDOWN)
    if rate_cap is not None and tokens is not None and min(tokens, rate_cap) < 1:
        expected.add(LimitCheck.SIGNAL_RATE)
    if symbol in blocked or (allowed is not None and symbol not in allowed):
        expected.add(LimitCheck.INSTRUMENT_NOT_ALLOWED)
    got = {v.check for v in result.violations if v.check in PROTECTION_CHECKS}
    assert got == expected
    assert [h.check for h in result.headroom] == list(LimitCheck)
    for room in result.headroom:
        if room.check in PROTECTION_CHECKS and room.limit is not None:
            assert room.remaining == max(room.limit - room.used, D(0))
