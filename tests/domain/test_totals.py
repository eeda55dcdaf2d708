"""Per-instrument reservation totals move with each reservation added or taken out."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from domain.current import Totals, stored_sums, totals_after
from domain.exposure import Reservation
from domain.values import Direction

AT = datetime(2026, 1, 5, tzinfo=UTC)


@st.composite
def reservations(draw: st.DrawFn) -> Reservation:
    return Reservation(
        f"s{draw(st.integers(0, 10_000))}",
        "c",
        draw(st.sampled_from(("EURUSD", "XAUUSD", "US500"))),
        Direction.BUY,
        Decimal(draw(st.integers(1, 500))) / 100,
        Decimal(draw(st.integers(1, 10**7))) / 100,
        AT,
    )


@given(st.lists(reservations(), max_size=12))
def test_adding_then_taking_out_the_same_reservations_leaves_nothing(
    held: list[Reservation],
) -> None:
    totals: Totals = {}
    totals.update(totals_after(totals, [(r, 1) for r in held]))
    assert stored_sums(totals) == (len(held), sum((r.notional for r in held), Decimal(0)))
    totals.update(totals_after(totals, [(r, -1) for r in held]))
    assert all(total == (0, Decimal(0), Decimal(0)) for total in totals.values())


def test_only_the_touched_instruments_come_back_and_a_count_never_goes_below_zero() -> None:
    gone = Reservation("s1", "c", "EURUSD", Direction.BUY, Decimal("0.10"), Decimal("1000"), AT)
    totals: Totals = {"XAUUSD": (1, Decimal("0.05"), Decimal("13250"))}
    assert totals_after(totals, [(gone, -1)]) == {"EURUSD": (0, Decimal(0), Decimal(0))}
    assert totals_after(totals, []) == {}
