"""The room a passing check leaves is exactly what its platform checks can still absorb."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from domain.checks import (
    PlatformState,
    check_instrument_concentration,
    check_platform_exposure,
    check_platform_positions,
    claim_room,
)
from domain.limits import PlatformLimits

CENT = Decimal("0.01")
money = st.integers(0, 2_000_000).map(lambda n: Decimal(n) * CENT)
lots = st.integers(0, 5_000).map(lambda n: Decimal(n) * CENT)


@st.composite
def platforms(draw: st.DrawFn) -> PlatformState:
    limits = PlatformLimits(
        max_total_exposure=draw(money),
        max_open_positions=draw(st.integers(0, 60)),
        max_instrument_volume=draw(st.one_of(st.none(), lots)),
    )
    return PlatformState(
        limits,
        open_positions=draw(st.integers(0, 40)),
        gross_exposure=draw(money),
        reserved_positions=draw(st.integers(0, 40)),
        reserved_exposure=draw(money),
        instrument_volume=draw(lots),
        daily_pnl=Decimal(0),
    )


def _passes(platform: PlatformState, volume: Decimal, value: Decimal) -> tuple[bool, bool, bool]:
    caps = platform.limits
    positions = check_platform_positions(
        platform.open_positions + platform.reserved_positions, caps.max_open_positions
    )
    exposure = check_platform_exposure(
        platform.gross_exposure + platform.reserved_exposure, value, caps.max_total_exposure
    )
    concentration = check_instrument_concentration(
        "EURUSD", platform.instrument_volume, volume, caps.instrument_volume_cap
    )
    return (
        positions.violation is None,
        exposure.violation is None,
        concentration.violation is None,
    )


def _grown(
    platform: PlatformState, positions: int, notional: Decimal, volume: Decimal
) -> PlatformState:
    """The platform once other checks reserved this much more."""
    return replace(
        platform,
        reserved_positions=platform.reserved_positions + positions,
        reserved_exposure=platform.reserved_exposure + notional,
        instrument_volume=platform.instrument_volume + volume,
    )


@given(platforms(), lots, money)
def test_room_is_non_negative_exactly_where_each_check_passes(
    platform: PlatformState, volume: Decimal, value: Decimal
) -> None:
    room = claim_room(platform, volume, value)
    assert _passes(platform, volume, value) == (
        room.positions >= 0,
        room.notional >= 0,
        room.volume >= 0,
    )


@given(platforms(), lots, money, st.data())
def test_growth_within_the_room_keeps_the_checks_passing_and_a_step_beyond_does_not(
    platform: PlatformState, volume: Decimal, value: Decimal, data: st.DataObject
) -> None:
    room = claim_room(platform, volume, value)
    if min(room.positions, room.notional, room.volume) < 0:
        return  # a refused signal claims nothing
    within = _grown(
        platform,
        data.draw(st.integers(0, room.positions)),
        data.draw(st.integers(0, int(room.notional / CENT)).map(lambda n: n * CENT)),
        data.draw(st.integers(0, int(room.volume / CENT)).map(lambda n: n * CENT)),
    )
    assert _passes(within, volume, value) == (True, True, True)
    assert (
        _passes(_grown(platform, room.positions + 1, Decimal(0), Decimal(0)), volume, value)[0]
        is False
    )
    assert _passes(_grown(platform, 0, room.notional + CENT, Decimal(0)), volume, value)[1] is False
    assert _passes(_grown(platform, 0, Decimal(0), room.volume + CENT), volume, value)[2] is False
