"""checkSignal over HTTP: every check at its boundary, sizing, reservations, modes, inputs.

Prices are chosen so the arithmetic is exact: EURUSD at 1.0000 makes 0.10 lots worth 10,000
and a stop 0.0100 away risk 100 per 0.10 lots.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from riskgate.settings import Settings
from tests.support.client import GraphQLClient, assert_denied, assert_granted
from tests.support.clock import Clock
from tests.support.databases import stored_rows
from tests.support.documents import DECISIONS, MARKS, OPEN, POSITION_SIZE
from tests.support.events import (
    AT_PAR,
    deposit,
    open_trade,
    prepared_client,
    realize,
    set_mode,
    set_platform,
    set_profile,
)
from tests.support.reports import exposure, global_exposure
from tests.support.signals import (
    ALL_CHECKS,
    check,
    decisions,
    headroom,
    post_check,
    release,
    signal,
    violated,
    violation,
)


def only(result: dict[str, Any], name: str) -> dict[str, Any]:
    """The result fails on exactly `name`; returns that violation."""
    assert not result["passes"], result
    assert violated(result) == {name}, result["violations"]
    found = violation(result, name)
    assert found is not None
    assert found["message"], found
    return found


def clean(result: dict[str, Any]) -> None:
    assert result["passes"], result["violations"]
    assert result["violations"] == []


# --- client limits ---------------------------------------------------------------------------


async def test_max_open_positions_four_of_five_passes_five_of_five_fails(
    api: GraphQLClient,
) -> None:
    await prepared_client(api, "alice", maxOpenPositions=5)
    for n in range(3):
        await open_trade(api, f"t{n}", "alice", price="1.0000")
    clean(await check(api, signal("r1", "alice")))  # a reservation is the fourth position

    probe = await check(api, signal("probe", "alice"), dry_run=True)
    clean(probe)
    assert headroom(probe, "MAX_OPEN_POSITIONS") == {
        "check": "MAX_OPEN_POSITIONS",
        "limit": "5.00",
        "used": "4.00",
        "remaining": "1.00",
    }

    fifth = await check(api, signal("r2", "alice"))
    clean(fifth)
    assert fifth["exposure"]["openPositionsCount"] == 3
    assert fifth["exposure"]["reservedPositionsCount"] == 2

    sixth = await check(api, signal("r3", "alice"))
    found = only(sixth, "MAX_OPEN_POSITIONS")
    assert (found["limit"], found["current"]) == ("5.00", "6.00")
    assert sixth["reservationExpiresAt"] is None
    assert (await exposure(api, "alice"))["reservedPositionsCount"] == 2


async def test_max_position_size_boundary(api: GraphQLClient) -> None:
    await prepared_client(api, "alice")
    clean(await check(api, signal("a", "alice", "1.00"), dry_run=True))
    found = only(await check(api, signal("b", "alice", "1.01"), dry_run=True), "MAX_POSITION_SIZE")
    assert (found["limit"], found["current"]) == ("1.00", "1.01")

    await set_profile(api, "alice", maxPositionSize="0.50")
    clean(await check(api, signal("c", "alice", "0.50"), dry_run=True))
    found = only(await check(api, signal("d", "alice", "0.51"), dry_run=True), "MAX_POSITION_SIZE")
    assert (found["limit"], found["current"]) == ("0.50", "0.51")


async def test_max_daily_loss_at_the_stop_lands_on_the_cap(api: GraphQLClient) -> None:
    await prepared_client(api, "alice", "10000", maxDailyLoss="500")
    await realize(api, "t1", "alice", "-300", **AT_PAR)

    plain = await check(api, signal("a", "alice"), dry_run=True)
    clean(plain)
    assert plain["exposure"]["dailyPnl"] == "-300.00"
    assert headroom(plain, "MAX_DAILY_LOSS") == {
        "check": "MAX_DAILY_LOSS",
        "limit": "500.00",
        "used": "300.00",
        "remaining": "200.00",
    }
    # 0.10 lots, stop 0.0200 below entry: 200.00 at the stop, 300 + 200 = the cap exactly.
    clean(await check(api, signal("b", "alice", stop="0.9800"), dry_run=True))
    clean(await check(api, signal("c", "alice", direction="SELL", stop="1.0200"), dry_run=True))
    # 200.01 at the stop: 0.01 over.
    over = await check(api, signal("d", "alice", stop="0.979999"), dry_run=True)
    found = only(over, "MAX_DAILY_LOSS")
    assert (found["limit"], found["current"]) == ("500.00", "500.01")


async def test_max_daily_loss_already_lost(api: GraphQLClient) -> None:
    await prepared_client(api, "alice", "10000", maxDailyLoss="500")
    await prepared_client(api, "bob", "10000", maxDailyLoss="500")
    await realize(api, "t1", "alice", "-500", **AT_PAR)
    await realize(api, "t2", "bob", "-499.99", **AT_PAR)

    found = only(await check(api, signal("a", "alice"), dry_run=True), "MAX_DAILY_LOSS")
    assert (found["limit"], found["current"]) == ("500.00", "500.00")
    clean(await check(api, signal("b", "bob"), dry_run=True))
    # Any loss at the stop now goes over.
    at_stop = await check(api, signal("c", "bob", stop="0.9999"), dry_run=True)
    found = only(at_stop, "MAX_DAILY_LOSS")
    assert found["current"] == "500.99"


async def test_no_daily_loss_cap_means_no_check(api: GraphQLClient) -> None:
    await prepared_client(api, "alice", "10000")
    await realize(api, "t1", "alice", "-9000", **AT_PAR)
    result = await check(api, signal("a", "alice", stop="0.9000"), dry_run=True)
    assert "MAX_DAILY_LOSS" not in violated(result)
    assert headroom(result, "MAX_DAILY_LOSS") is None


async def test_max_drawdown_current(api: GraphQLClient) -> None:
    await prepared_client(api, "alice", "10000", maxDrawdownPercent="10.00")
    await realize(api, "t1", "alice", "-1000", **AT_PAR)  # equity 9,000 against a peak of 10,000

    at_limit = await check(api, signal("a", "alice"), dry_run=True)
    assert at_limit["exposure"]["currentDrawdownPercent"] == "10.00"
    found = only(at_limit, "MAX_DRAWDOWN")
    assert (found["limit"], found["current"]) == ("10.00", "10.00")

    await set_profile(api, "alice", maxDrawdownPercent="10.01")
    clean(await check(api, signal("b", "alice"), dry_run=True))


async def test_max_drawdown_at_the_stop(api: GraphQLClient) -> None:
    await prepared_client(api, "alice", "10000", maxDrawdownPercent="20")
    await realize(api, "t1", "alice", "-1000", **AT_PAR)  # 10.00 %

    # 1,000 at the stop: equity 8,000 = exactly 20 % below the peak.
    exact = await check(api, signal("a", "alice", stop="0.9000"), dry_run=True)
    clean(exact)
    assert headroom(exact, "MAX_DRAWDOWN") == {
        "check": "MAX_DRAWDOWN",
        "limit": "20.00",
        "used": "10.00",
        "remaining": "10.00",
    }
    tiny = await check(api, signal("b", "alice", stop="0.899999"), dry_run=True)
    only(tiny, "MAX_DRAWDOWN")
    # 1,010 at the stop: 2,010 / 10,000.
    wide = await check(api, signal("c", "alice", stop="0.8990"), dry_run=True)
    found = only(wide, "MAX_DRAWDOWN")
    assert (found["limit"], found["current"]) == ("20.00", "20.10")


async def test_spec_drawdown_example_in_check_exposure(api: GraphQLClient) -> None:
    await deposit(api, "alice", "10000")
    await realize(api, "t1", "alice", "100", **AT_PAR)
    await realize(api, "t2", "alice", "-50", **AT_PAR)

    for dry_run in (True, False):
        result = await check(api, signal(f"s-{dry_run}", "alice"), dry_run=dry_run)
        assert result["exposure"]["equity"] == "10050.00"
        assert result["exposure"]["currentDrawdownPercent"] == "0.50"
        assert headroom(result, "MAX_DRAWDOWN")["used"] == "0.50"  # type: ignore[index]


async def test_correlation_exposure_boundary_and_hedge(api: GraphQLClient) -> None:
    await prepared_client(api, "alice", maxCorrelationExposure="0.70")
    # Nothing held yet: the ratio would be 1.00, but the check needs a position.
    clean(await check(api, signal("first", "alice", "1.00"), dry_run=True))

    await open_trade(api, "idx", "alice", "0.30", instrument="US30", price="10000")  # 3,000
    # 7,000 of FX_MAJORS in 10,000 gross: exactly 0.70.
    clean(await check(api, signal("a", "alice", "0.07"), dry_run=True))
    over = await check(api, signal("b", "alice", "0.08"), dry_run=True)
    found = only(over, "CORRELATION_EXPOSURE")
    assert (found["limit"], found["current"]) == ("0.70", "0.73")

    await open_trade(api, "fx", "alice", "0.10", price="1.0000")  # FX_MAJORS long 10,000 of 13,000
    only(await check(api, signal("c", "alice", "0.05"), dry_run=True), "CORRELATION_EXPOSURE")
    # Selling in the same group hedges: |10,000 − 5,000| / 18,000.
    hedged = await check(api, signal("d", "alice", "0.05", direction="SELL"), dry_run=True)
    clean(hedged)
    hedge_other = signal("e", "alice", "0.05", instrument="GBPUSD", direction="SELL")
    clean(await check(api, hedge_other, dry_run=True))
    headroom_row = headroom(hedged, "CORRELATION_EXPOSURE")
    assert headroom_row is not None
    assert headroom_row["used"] == "0.77"  # 10,000 / 13,000 before the signal

    # 1.00 switches the check off.
    await set_profile(api, "alice", maxCorrelationExposure="1.00")
    clean(await check(api, signal("f", "alice", "1.00"), dry_run=True))


async def test_correlation_counts_reservations(api: GraphQLClient) -> None:
    await prepared_client(api, "alice", maxCorrelationExposure="0.70")
    await open_trade(api, "idx", "alice", "0.30", instrument="US30", price="10000")
    clean(await check(api, signal("a", "alice", "0.07")))  # reserved: 7,000 of 10,000
    only(await check(api, signal("b", "alice", "0.01"), dry_run=True), "CORRELATION_EXPOSURE")


async def test_marks_move_loss_drawdown_and_exposure(api: GraphQLClient) -> None:
    await prepared_client(api, "alice", "10000", maxDailyLoss="500", maxDrawdownPercent="5")
    await prepared_client(api, "bob", "10000")
    await set_platform(api, maxDailyLoss="1000")
    await open_trade(api, "a1", "alice", "1.00", price="1.0000")
    await open_trade(api, "b1", "bob", "1.00", price="1.0000")

    await api.ok(MARKS, {"prices": [{"instrument": "EURUSD", "price": "0.9951"}]})
    near = await check(api, signal("a", "alice"), dry_run=True)
    clean(near)
    assert near["exposure"]["dailyPnl"] == "-490.00"
    assert headroom(near, "PLATFORM_EXPOSURE")["used"] == "199020.00"  # type: ignore[index]

    await api.ok(MARKS, {"prices": [{"instrument": "EURUSD", "price": "0.9950"}]})
    down = await check(api, signal("b", "alice"), dry_run=True)
    assert violated(down) == {"MAX_DAILY_LOSS", "MAX_DRAWDOWN", "PLATFORM_DAILY_LOSS"}
    assert violation(down, "MAX_DAILY_LOSS")["current"] == "500.00"  # type: ignore[index]
    assert violation(down, "MAX_DRAWDOWN")["current"] == "5.00"  # type: ignore[index]
    assert violation(down, "PLATFORM_DAILY_LOSS")["current"] == "1000.00"  # type: ignore[index]

    # A mark above entry raises the peak; falling back from it is a drawdown.
    await api.ok(MARKS, {"prices": [{"instrument": "EURUSD", "price": "1.0100"}]})
    await api.ok(MARKS, {"prices": [{"instrument": "EURUSD", "price": "1.0000"}]})
    back = await check(api, signal("c", "alice"), dry_run=True)
    assert back["exposure"]["currentDrawdownPercent"] == "9.09"
    assert violated(back) == {"MAX_DRAWDOWN"}


# --- platform limits -------------------------------------------------------------------------


async def test_platform_position_size_boundary(api: GraphQLClient) -> None:
    await prepared_client(api, "alice")
    await set_platform(api, maxPositionSize="0.50")
    passing = await check(api, signal("a", "alice", "0.50"), dry_run=True)
    clean(passing)
    assert headroom(passing, "PLATFORM_POSITION_SIZE") == {
        "check": "PLATFORM_POSITION_SIZE",
        "limit": "0.50",
        "used": "0.00",
        "remaining": "0.50",
    }
    over = await check(api, signal("b", "alice", "0.51"), dry_run=True)
    found = only(over, "PLATFORM_POSITION_SIZE")
    assert (found["limit"], found["current"]) == ("0.50", "0.51")


async def test_platform_exposure_counts_reservations(api: GraphQLClient) -> None:
    for client in ("alice", "bob", "carol"):
        await prepared_client(api, client)
    await set_platform(api, maxTotalExposure="30000")
    await open_trade(api, "b1", "bob", price="1.0000")  # 10,000 open
    clean(await check(api, signal("c1", "carol")))  # 10,000 reserved

    exact = await check(api, signal("a", "alice", "0.10"), dry_run=True)
    clean(exact)
    assert headroom(exact, "PLATFORM_EXPOSURE") == {
        "check": "PLATFORM_EXPOSURE",
        "limit": "30000.00",
        "used": "20000.00",
        "remaining": "10000.00",
    }
    found = only(await check(api, signal("b", "alice", "0.11"), dry_run=True), "PLATFORM_EXPOSURE")
    assert (found["limit"], found["current"]) == ("30000.00", "31000.00")

    assert await release(api, "c1")
    clean(await check(api, signal("c", "alice", "0.20"), dry_run=True))
    only(await check(api, signal("d", "alice", "0.21"), dry_run=True), "PLATFORM_EXPOSURE")


async def test_platform_positions_counts_reservations(api: GraphQLClient) -> None:
    for client in ("alice", "bob", "carol", "dave"):
        await prepared_client(api, client)
    await set_platform(api, maxOpenPositions=3)
    await open_trade(api, "b1", "bob", price="1.0000")
    clean(await check(api, signal("c1", "carol")))
    third = await check(api, signal("a1", "alice"))
    clean(third)
    assert headroom(third, "PLATFORM_POSITIONS") == {
        "check": "PLATFORM_POSITIONS",
        "limit": "3.00",
        "used": "2.00",
        "remaining": "1.00",
    }
    found = only(await check(api, signal("d1", "dave")), "PLATFORM_POSITIONS")
    assert (found["limit"], found["current"]) == ("3.00", "4.00")
    platform = await global_exposure(api)
    assert (platform["totalOpenPositions"], platform["reservedPositions"]) == (1, 2)


async def test_platform_daily_loss_sums_clients(api: GraphQLClient) -> None:
    for client in ("alice", "bob", "carol"):
        await prepared_client(api, client, "10000")
    await set_platform(api, maxDailyLoss="1000")
    await realize(api, "b1", "bob", "-600", **AT_PAR)
    await realize(api, "c1", "carol", "-399.99", **AT_PAR)

    below = await check(api, signal("a", "alice"), dry_run=True)
    clean(below)
    assert headroom(below, "PLATFORM_DAILY_LOSS") == {
        "check": "PLATFORM_DAILY_LOSS",
        "limit": "1000.00",
        "used": "999.99",
        "remaining": "0.01",
    }
    await realize(api, "c2", "carol", "-0.01", **AT_PAR)
    found = only(await check(api, signal("b", "alice"), dry_run=True), "PLATFORM_DAILY_LOSS")
    assert (found["limit"], found["current"]) == ("1000.00", "1000.00")
    assert (await global_exposure(api))["dailyPlatformPnl"] == "-1000.00"


async def test_instrument_concentration_both_directions_and_reservations(
    api: GraphQLClient,
) -> None:
    for client in ("alice", "bob", "carol"):
        await prepared_client(api, client)
    await set_platform(api, maxInstrumentVolume="1.00")
    await open_trade(api, "b1", "bob", "0.40", price="1.0000")
    clean(await check(api, signal("c1", "carol", "0.30", direction="SELL")))

    exact = await check(api, signal("a", "alice", "0.30"), dry_run=True)
    clean(exact)
    assert headroom(exact, "INSTRUMENT_CONCENTRATION") == {
        "check": "INSTRUMENT_CONCENTRATION",
        "limit": "1.00",
        "used": "0.70",
        "remaining": "0.30",
    }
    over = await check(api, signal("b", "alice", "0.31"), dry_run=True)
    found = only(over, "INSTRUMENT_CONCENTRATION")
    assert (found["limit"], found["current"]) == ("1.00", "1.01")
    clean(await check(api, signal("c", "alice", "0.31", instrument="GBPUSD"), dry_run=True))


async def test_instrument_cap_follows_platform_max_position_size(api: GraphQLClient) -> None:
    await prepared_client(api, "alice")
    default = await check(api, signal("a", "alice"), dry_run=True)
    assert headroom(default, "INSTRUMENT_CONCENTRATION")["limit"] == "500.00"  # type: ignore[index]
    await set_platform(api, maxPositionSize="2.00")
    derived = await check(api, signal("b", "alice"), dry_run=True)
    assert headroom(derived, "INSTRUMENT_CONCENTRATION")["limit"] == "10.00"  # type: ignore[index]


# --- the whole answer ------------------------------------------------------------------------


async def test_every_violation_is_reported_together(api: GraphQLClient, settings: Settings) -> None:
    await deposit(api, "alice", "1000")
    await realize(api, "t0", "alice", "-100", **AT_PAR)  # daily loss 100, drawdown 10 %
    await open_trade(api, "t1", "alice", "0.10", price="1.0000")
    await set_profile(
        api,
        "alice",
        maxOpenPositions=1,
        maxPositionSize="0.50",
        maxDailyLoss="100",
        maxDrawdownPercent="5",
        maxCorrelationExposure="0.70",
    )
    await set_platform(
        api,
        maxPositionSize="1.00",
        maxTotalExposure="50000",
        maxOpenPositions=1,
        maxDailyLoss="100",
        maxInstrumentVolume="1.00",
    )
    assert_granted(await set_mode(api, "HALTED", "alice"))

    payload = signal("all", "alice", "1.20", stop="0.9900")
    answer = await check(api, payload)
    assert not answer["passes"]
    assert [v["check"] for v in answer["violations"]] == list(ALL_CHECKS)
    for v in answer["violations"]:
        assert v["limit"] and v["current"] and v["message"], v
    expected = {
        "MAX_OPEN_POSITIONS": ("1.00", "2.00"),
        "MAX_POSITION_SIZE": ("0.50", "1.20"),
        "PLATFORM_POSITION_SIZE": ("1.00", "1.20"),
        "PLATFORM_EXPOSURE": ("50000.00", "130000.00"),
        "PLATFORM_POSITIONS": ("1.00", "2.00"),
        "PLATFORM_DAILY_LOSS": ("100.00", "100.00"),
        "INSTRUMENT_CONCENTRATION": ("1.00", "1.30"),
    }
    for name, (limit, current) in expected.items():
        found = violation(answer, name)
        assert found is not None
        assert (found["limit"], found["current"]) == (limit, current), found
    assert [h["check"] for h in answer["headroom"]] == list(ALL_CHECKS)
    assert answer["reservationExpiresAt"] is None
    assert answer["decisionId"] is not None

    stored = await decisions(api, "alice")
    assert [d["signalId"] for d in stored] == ["all"]
    assert stored[0]["violations"] == answer["violations"]
    assert await stored_rows(settings.database_url) == (0, 1)


async def test_headroom_is_limit_minus_used(api: GraphQLClient) -> None:
    await prepared_client(api, "alice", maxDailyLoss="1000", maxOpenPositions=7)
    await open_trade(api, "t1", "alice", "0.20", price="1.0000")
    result = await check(api, signal("a", "alice"))
    clean(result)
    assert [h["check"] for h in result["headroom"]] == list(ALL_CHECKS)
    for row in result["headroom"]:
        remaining = max(Decimal(row["limit"]) - Decimal(row["used"]), Decimal(0))
        assert Decimal(row["remaining"]) == remaining, row
    assert headroom(result, "MAX_OPEN_POSITIONS")["used"] == "1.00"  # type: ignore[index]
    assert headroom(result, "PLATFORM_EXPOSURE")["used"] == "20000.00"  # type: ignore[index]
    assert headroom(result, "INSTRUMENT_CONCENTRATION")["used"] == "0.20"  # type: ignore[index]


# --- sizing ----------------------------------------------------------------------------------

SIZING_EXAMPLE = {"instrument": "EURUSD", "entry": "1.1000", "stop": "1.0950"}


async def test_spec_sizing_example_via_position_size(api: GraphQLClient) -> None:
    await deposit(api, "alice", "10000")
    expected = {
        "volume": "0.40",
        "riskAmount": "200.00",
        "riskAtStop": "200.00",
        "equity": "10000.00",
        "clampedBy": None,
    }
    as_service = await api.ok(POSITION_SIZE, {"clientId": "alice", **SIZING_EXAMPLE})
    assert as_service["positionSize"] == expected
    as_client = await api.ok(POSITION_SIZE, SIZING_EXAMPLE, role="client", sub="alice")
    assert as_client["positionSize"] == expected
    other = await api.post(POSITION_SIZE, {"clientId": "bob", **SIZING_EXAMPLE}, role="client")
    assert_denied(other)


async def test_spec_sizing_example_via_check_signal(api: GraphQLClient) -> None:
    await deposit(api, "alice", "10000")
    sized = signal("s1", "alice", None, entry="1.1000", stop="1.0950")
    dry = await check(api, sized, dry_run=True)
    clean(dry)
    assert (dry["volume"], dry["notional"]) == ("0.40", "44000.00")
    reserved = await check(api, sized)
    clean(reserved)
    assert reserved["volume"] == "0.40"
    assert reserved["exposure"]["reservedExposure"] == "44000.00"
    platform = await global_exposure(api)
    assert platform["reservedExposure"] == "44000.00"


async def test_sizing_clamps_and_names_the_bound(api: GraphQLClient) -> None:
    await deposit(api, "alice", "10000")
    await deposit(api, "tiny", "10")
    wide = {"instrument": "EURUSD", "entry": "1.1000", "stop": "1.0990"}  # 2.00 lots unclamped

    size = (await api.ok(POSITION_SIZE, {"clientId": "alice", **wide}))["positionSize"]
    assert (size["volume"], size["clampedBy"], size["riskAtStop"]) == (
        "1.00",
        "MAX_POSITION_SIZE",
        "100.00",
    )
    assert size["riskAmount"] == "200.00"
    sized = await check(api, signal("s1", "alice", None, entry="1.1000", stop="1.0990"))
    clean(sized)
    assert sized["volume"] == "1.00"

    await set_platform(api, maxPositionSize="0.50")
    size = (await api.ok(POSITION_SIZE, {"clientId": "alice", **wide}))["positionSize"]
    assert (size["volume"], size["clampedBy"], size["riskAtStop"]) == (
        "0.50",
        "PLATFORM_POSITION_SIZE",
        "50.00",
    )

    size = (await api.ok(POSITION_SIZE, {"clientId": "tiny", **wide}))["positionSize"]
    assert (size["volume"], size["clampedBy"], size["riskAtStop"]) == ("0.01", "MIN_VOLUME", "1.00")


async def test_sizing_rejects_stop_at_entry_and_no_equity(
    api: GraphQLClient, settings: Settings
) -> None:
    await deposit(api, "alice", "10000")
    flat = {"clientId": "alice", "instrument": "EURUSD", "entry": "1.1000", "stop": "1.1000"}
    error = await api.fails(POSITION_SIZE, flat, code="BAD_USER_INPUT")
    assert error["extensions"]["field"] == "stopLoss"

    for dry_run in (True, False):
        at_entry = signal(f"s-{dry_run}", "alice", None, entry="1.1000", stop="1.1000")
        response = await post_check(api, at_entry, dry_run=dry_run)
        assert response.codes == ["BAD_USER_INPUT"], response.body
        assert response.errors[0]["extensions"]["field"] == "stopLoss"
        no_stop = await post_check(api, signal(f"n-{dry_run}", "alice", None), dry_run=dry_run)
        assert no_stop.codes == ["BAD_USER_INPUT"], no_stop.body
        assert no_stop.errors[0]["extensions"]["field"] == "stopLoss"

    broke = {"clientId": "nobody", "instrument": "EURUSD", "entry": "1.1000", "stop": "1.0950"}
    await api.fails(POSITION_SIZE, broke, code="BAD_USER_INPUT")
    unfunded = signal("u", "nobody", None, entry="1.1000", stop="1.0950")
    assert (await post_check(api, unfunded)).codes == ["BAD_USER_INPUT"]
    assert await stored_rows(settings.database_url) == (0, 0)


# --- dry runs, permissions, reservations -----------------------------------------------------


async def test_dry_run_stores_nothing(api: GraphQLClient, settings: Settings) -> None:
    await prepared_client(api, "alice", maxOpenPositions=1)
    for n in range(3):
        result = await check(api, signal(f"d{n}", "alice"), dry_run=True)
        clean(result)
        assert result["decisionId"] is None
        assert result["reservationExpiresAt"] is None
        assert result["exposure"]["reservedPositionsCount"] == 0
    assert (await exposure(api, "alice"))["reservedPositionsCount"] == 0
    assert await decisions(api, "alice") == []
    assert await stored_rows(settings.database_url) == (0, 0)
    # The same id can still be checked for real afterwards.
    clean(await check(api, signal("d0", "alice")))


async def test_clients_dry_run_their_own_only_and_never_reserve(
    api: GraphQLClient, settings: Settings
) -> None:
    await prepared_client(api, "alice")
    await prepared_client(api, "bob")
    own = signal("x1", "alice")
    implicit = {k: v for k, v in own.items() if k != "clientId"}
    for payload in (own, implicit):
        result = await check(api, payload, dry_run=True, role="client", sub="alice")
        clean(result)
        assert result["clientId"] == "alice"

    assert_denied(await post_check(api, signal("x2", "bob"), dry_run=True, role="client"))
    assert_denied(await post_check(api, own, role="client"))
    assert_denied(await post_check(api, implicit, role="client"))
    assert_denied(await api.post('mutation { releaseSignal(signalId: "x1") }', role="client"))
    admin = await check(api, signal("x3", "bob"), role="admin")
    clean(admin)
    assert await stored_rows(settings.database_url) == (1, 1)


async def test_release_frees_the_slot(api: GraphQLClient) -> None:
    await prepared_client(api, "alice", maxOpenPositions=1)
    clean(await check(api, signal("s1", "alice")))
    only(await check(api, signal("s2", "alice")), "MAX_OPEN_POSITIONS")
    assert await release(api, "s1") is True
    assert (await exposure(api, "alice"))["reservedPositionsCount"] == 0
    clean(await check(api, signal("s3", "alice")))
    assert await release(api, "s1") is False
    assert await release(api, "never-checked") is False


async def test_reservation_expires_without_a_job(api: GraphQLClient, clock: Clock) -> None:
    start = datetime.now(UTC).replace(microsecond=0)
    clock.set(start)
    await prepared_client(api, "alice", maxOpenPositions=1)
    held = await check(api, signal("s1", "alice"))
    clean(held)
    assert datetime.fromisoformat(held["reservationExpiresAt"]) == start + timedelta(seconds=300)

    clock.advance(seconds=299)
    only(await check(api, signal("s2", "alice")), "MAX_OPEN_POSITIONS")
    assert (await exposure(api, "alice"))["reservedPositionsCount"] == 1

    clock.advance(seconds=1)  # at the expiry instant it no longer counts
    assert (await exposure(api, "alice"))["reservedPositionsCount"] == 0
    assert (await global_exposure(api))["reservedPositions"] == 0
    fresh = await check(api, signal("s3", "alice"))
    clean(fresh)
    for name in ("MAX_OPEN_POSITIONS", "PLATFORM_POSITIONS", "PLATFORM_EXPOSURE"):
        assert headroom(fresh, name)["used"] == "0.00", name  # type: ignore[index]
    assert headroom(fresh, "INSTRUMENT_CONCENTRATION")["used"] == "0.00"  # type: ignore[index]
    platform = await global_exposure(api)
    assert (platform["reservedPositions"], platform["reservedExposure"]) == (1, "10000.00")


async def test_trade_opened_with_signal_consumes_the_reservation(api: GraphQLClient) -> None:
    await prepared_client(api, "alice", maxOpenPositions=2)
    clean(await check(api, signal("s1", "alice")))
    before = await exposure(api, "alice")
    assert (before["openPositionsCount"], before["reservedPositionsCount"]) == (0, 1)

    for _ in range(2):  # a redelivered open changes nothing
        await open_trade(api, "t1", "alice", price="1.0000", signalId="s1")
        after = await exposure(api, "alice")
        assert (after["openPositionsCount"], after["reservedPositionsCount"]) == (1, 0)
        platform = await global_exposure(api)
        assert (platform["totalOpenPositions"], platform["reservedPositions"]) == (1, 0)
        assert platform["reservedExposure"] == "0.00"

    clean(await check(api, signal("s2", "alice")))
    only(await check(api, signal("s3", "alice")), "MAX_OPEN_POSITIONS")
    assert await release(api, "s1") is False  # already consumed

    # Another client's trade cannot consume alice's reservation.
    stolen = await api.post(
        OPEN,
        {
            "trade": {
                "tradeId": "t2",
                "clientId": "bob",
                "signalId": "s2",
                "instrument": "EURUSD",
                "direction": "BUY",
                "volume": "0.10",
                "entryPrice": "1.0000",
            }
        },
    )
    assert stolen.codes == ["CONFLICT"], stolen.body
    assert (await exposure(api, "alice"))["reservedPositionsCount"] == 1
    assert (await exposure(api, "bob"))["openPositionsCount"] == 0


async def test_same_signal_id_is_idempotent(api: GraphQLClient, settings: Settings) -> None:
    await prepared_client(api, "alice")
    first = await check(api, signal("s1", "alice"))
    clean(first)
    again = await check(api, signal("s1", "alice"))
    assert again == first
    assert (await exposure(api, "alice"))["reservedPositionsCount"] == 1

    # The same values written differently are the same payload.
    assert await check(api, signal("s1", "alice", "0.1", instrument="eurusd")) == first
    changed = await post_check(api, signal("s1", "alice", "0.20"))
    assert changed.codes == ["CONFLICT"], changed.body
    other_side = await post_check(api, signal("s1", "alice", direction="SELL"))
    assert other_side.codes == ["CONFLICT"], other_side.body
    other_client = await post_check(api, signal("s1", "bob"))
    assert other_client.codes == ["CONFLICT"], other_client.body
    assert await stored_rows(settings.database_url) == (1, 1)

    # Replaying after the release answers the first decision and holds nothing new.
    assert await release(api, "s1")
    replay = await check(api, signal("s1", "alice"))
    assert replay["decisionId"] == first["decisionId"]
    assert (await exposure(api, "alice"))["reservedPositionsCount"] == 0
    assert await stored_rows(settings.database_url) == (0, 1)


async def test_a_failed_decision_replays_as_failed(api: GraphQLClient) -> None:
    await prepared_client(api, "alice")
    first = await check(api, signal("big", "alice", "2.00"))
    only(first, "MAX_POSITION_SIZE")
    await set_profile(api, "alice", maxPositionSize="5.00")
    assert await check(api, signal("big", "alice", "2.00")) == first
    assert (await exposure(api, "alice"))["reservedPositionsCount"] == 0


async def test_risk_decisions_lists_stored_decisions(api: GraphQLClient) -> None:
    await prepared_client(api, "alice", maxPositionSize="0.50")
    await prepared_client(api, "bob")
    passed = await check(api, signal("a1", "alice"))
    failed = await check(api, signal("a2", "alice", "0.60"))
    await check(api, signal("a3", "alice"), dry_run=True)
    await check(api, signal("b1", "bob"))

    own = await decisions(api, None, role="client", sub="alice")
    assert [d["signalId"] for d in own] == ["a2", "a1"]
    assert own == [failed, passed]
    assert [d["signalId"] for d in await decisions(api, "bob")] == ["b1"]
    assert [d["signalId"] for d in await decisions(api, "bob", role="admin")] == ["b1"]
    too_many = await api.post(DECISIONS, {"clientId": "alice", "limit": 501})
    assert too_many.codes == ["BAD_USER_INPUT"], too_many.body
    sneaky = await api.post(
        'query { riskDecisions(clientId: "bob") { signalId } }', role="client", sub="alice"
    )
    assert_denied(sneaky)


# --- trading modes ---------------------------------------------------------------------------


async def test_platform_halt_is_admin_only_and_immediate(api: GraphQLClient) -> None:
    await prepared_client(api, "alice")
    assert_denied(await set_mode(api, "HALTED", role="service"))
    assert_denied(await set_mode(api, "HALTED", role="client"))
    clean(await check(api, signal("s0", "alice"), dry_run=True))

    assert_granted(await set_mode(api, "HALTED", role="admin"))
    halted = await check(api, signal("s1", "alice"))
    found = only(halted, "TRADING_HALTED")
    assert "platform" in found["message"]
    only(await check(api, signal("s2", "alice"), dry_run=True), "TRADING_HALTED")
    assert (await global_exposure(api))["tradingMode"] == "HALTED"

    assert_granted(await set_mode(api, "ACTIVE", role="admin"))
    clean(await check(api, signal("s3", "alice")))


async def test_client_halt_by_service_or_admin_is_immediate(api: GraphQLClient) -> None:
    await prepared_client(api, "alice")
    await prepared_client(api, "bob")
    assert_denied(await set_mode(api, "HALTED", "alice", role="client", sub="alice"))
    clean(await check(api, signal("s0", "alice")))

    assert_granted(await set_mode(api, "HALTED", "alice", role="service"))
    only(await check(api, signal("s1", "alice")), "TRADING_HALTED")
    clean(await check(api, signal("b1", "bob")))
    assert_granted(await set_mode(api, "ACTIVE", "alice", role="admin"))
    clean(await check(api, signal("s2", "alice")))
    assert_granted(await set_mode(api, "HALTED", "alice", role="admin"))
    only(await check(api, signal("s3", "alice"), dry_run=True), "TRADING_HALTED")


async def test_client_reduce_only_lets_reducing_signals_through(api: GraphQLClient) -> None:
    await prepared_client(api, "alice")
    await open_trade(api, "t1", "alice", "0.50", direction="BUY", price="1.0000")
    assert_granted(await set_mode(api, "REDUCE_ONLY", "alice"))

    sell = signal("r1", "alice", "0.50", direction="SELL")
    clean(await check(api, sell, dry_run=True))
    only(await check(api, {**sell, "volume": "0.51"}, dry_run=True), "TRADING_HALTED")
    only(await check(api, signal("r2", "alice", "0.10"), dry_run=True), "TRADING_HALTED")
    other = signal("r3", "alice", "0.10", instrument="GBPUSD", direction="SELL")
    only(await check(api, other, dry_run=True), "TRADING_HALTED")

    # Reserved reducing volume is spoken for.
    clean(await check(api, signal("r4", "alice", "0.30", direction="SELL")))
    only(await check(api, signal("r5", "alice", "0.30", direction="SELL")), "TRADING_HALTED")
    clean(await check(api, signal("r6", "alice", "0.20", direction="SELL")))


async def test_platform_reduce_only(api: GraphQLClient) -> None:
    await prepared_client(api, "alice")
    await prepared_client(api, "bob")
    await open_trade(api, "t1", "alice", "0.20", direction="SELL", price="1.0000")
    assert_granted(await set_mode(api, "REDUCE_ONLY", role="admin"))
    clean(await check(api, signal("a1", "alice", "0.20", direction="BUY")))
    only(await check(api, signal("b1", "bob", "0.01")), "TRADING_HALTED")
    only(await check(api, signal("a2", "alice", "0.01", direction="SELL")), "TRADING_HALTED")


# --- inputs ----------------------------------------------------------------------------------


async def test_unknown_instrument_stores_nothing(api: GraphQLClient, settings: Settings) -> None:
    await prepared_client(api, "alice")
    for dry_run in (True, False):
        response = await post_check(api, signal("u1", "alice", instrument="NOPE"), dry_run=dry_run)
        assert response.codes == ["BAD_USER_INPUT"], response.body
        assert response.errors[0]["extensions"]["field"] == "instrument"
        assert response.data is None
    assert await decisions(api, "alice") == []
    assert await stored_rows(settings.database_url) == (0, 0)
    # The id is still free: nothing was stored under it.
    clean(await check(api, signal("u1", "alice")))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("volume", "NaN"),
        ("volume", "1E+1000000"),
        ("volume", "Infinity"),
        ("volume", "-0.10"),
        ("volume", "0"),
        ("volume", "0.015"),
        ("volume", "100.01"),
        ("entryPrice", "0"),
        ("entryPrice", "-1.1"),
        ("entryPrice", "sNaN"),
        ("entryPrice", "1E+1000000"),
        ("stopLoss", "-1"),
        ("stopLoss", "NaN"),
    ],
)
async def test_bad_numbers_name_the_field(
    api: GraphQLClient, settings: Settings, field: str, value: str
) -> None:
    await prepared_client(api, "alice")
    payload = {**signal("bad", "alice", stop="0.9900"), field: value}
    for dry_run in (True, False):
        response = await post_check(api, payload, dry_run=dry_run)
        assert response.codes == ["BAD_USER_INPUT"], response.body
        assert response.data is None
        assert response.errors[0]["extensions"].get("field") == field, response.errors
    assert await decisions(api, "alice") == []
    assert await stored_rows(settings.database_url) == (0, 0)


async def test_reservation_on_an_instrument_nobody_holds_still_counts(
    api: GraphQLClient,
) -> None:
    # Nothing is open anywhere; the first reservation is on ETHUSD, whose group (CRYPTO)
    # the next check's correlation ratio must still know.
    await deposit(api, "alice", "100000")
    first = await check(api, signal("eth-1", "alice", "0.10", instrument="ETHUSD", entry="3000"))
    assert first["passes"], first
    second = await check(api, signal("eur-1", "alice", "0.10"))
    assert second["exposure"]["reservedPositionsCount"] == 1
    # 0.10 ETHUSD at 3000 is 300; 0.10 EURUSD at 1.0000 is 10,000: FX would be 97 % of it.
    assert violated(second) == {"CORRELATION_EXPOSURE"}
    dry = await check(api, signal("eur-2", "alice", "0.10"), dry_run=True)
    assert violated(dry) == {"CORRELATION_EXPOSURE"}
