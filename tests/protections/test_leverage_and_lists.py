"""MAX_LEVERAGE and INSTRUMENT_NOT_ALLOWED over HTTP, at their exact boundaries."""

from __future__ import annotations

from tests.support.client import GraphQLClient
from tests.support.documents import PROFILE
from tests.support.events import deposit, open_trade, prepared_client, set_profile
from tests.support.signals import check, headroom, signal, violated, violation


async def test_leverage_at_the_cap_passes_and_one_lot_step_over_fails(api: GraphQLClient) -> None:
    # Equity 10,000 at 10x: 100,000 of notional. EURUSD at 1.0000 is 100,000 a lot.
    await prepared_client(api, "lev", "10000", maxLeverage="10", maxPositionSize="2.00")
    await open_trade(api, "lev-t1", "lev", "0.40", price="1.0000")
    over = await check(api, signal("lev-over", "lev", "0.61"), dry_run=True)
    assert violated(over) == {"MAX_LEVERAGE"}
    found = violation(over, "MAX_LEVERAGE")
    assert found is not None
    assert (found["limit"], found["current"]) == ("10.00", "10.10")
    at_cap = await check(api, signal("lev-cap", "lev", "0.60"))
    assert at_cap["passes"], at_cap["violations"]
    room = headroom(at_cap, "MAX_LEVERAGE")
    assert room == {"check": "MAX_LEVERAGE", "limit": "10.00", "used": "4.00", "remaining": "6.00"}
    # The reservation now counts: not one more lot step fits.
    full = await check(api, signal("lev-more", "lev", "0.01"))
    assert violated(full) == {"MAX_LEVERAGE"}


async def test_leverage_without_positive_equity_fails_and_off_has_no_headroom(
    api: GraphQLClient,
) -> None:
    await set_profile(api, "broke", maxLeverage="100", maxCorrelationExposure="1.00")
    result = await check(api, signal("broke-1", "broke", "0.01"), dry_run=True)
    assert violated(result) == {"MAX_LEVERAGE"}
    assert "no positive equity" in result["violations"][0]["message"]
    await deposit(api, "open", "1000")
    free = await check(api, signal("open-1", "open", "0.01"), dry_run=True)
    assert headroom(free, "MAX_LEVERAGE") is None
    assert free["passes"]


async def test_allow_and_block_lists(api: GraphQLClient) -> None:
    await prepared_client(api, "lists", "100000", allowedInstruments=["EURUSD", "XAUUSD"])
    assert (await check(api, signal("l-1", "lists", "0.01")))["passes"]
    outside = await check(
        api, signal("l-2", "lists", "0.01", instrument="GBPUSD", entry="1.2"), dry_run=True
    )
    assert violated(outside) == {"INSTRUMENT_NOT_ALLOWED"}
    assert "GBPUSD" in outside["violations"][0]["message"]
    await set_profile(api, "lists", blockedInstruments=["XAUUSD"])
    blocked = await check(
        api, signal("l-3", "lists", "0.01", instrument="XAUUSD", entry="2000"), dry_run=True
    )
    assert violated(blocked) == {"INSTRUMENT_NOT_ALLOWED"}
    assert headroom(blocked, "INSTRUMENT_NOT_ALLOWED") == {
        "check": "INSTRUMENT_NOT_ALLOWED",
        "limit": "1.00",
        "used": "1.00",
        "remaining": "0.00",
    }
    # Clearing the allow list leaves only the block list in force.
    await set_profile(api, "lists", allowedInstruments=None)
    assert (await check(api, signal("l-4", "lists", "0.01", instrument="GBPUSD", entry="1.2")))[
        "passes"
    ]
    assert not (
        await check(api, signal("l-5", "lists", "0.01", instrument="XAUUSD", entry="2000"))
    )["passes"]


async def test_unknown_symbols_in_a_list_are_refused(api: GraphQLClient) -> None:
    for field in ("allowedInstruments", "blockedInstruments"):
        error = await api.fails(
            PROFILE,
            {"clientId": "lists", "input": {field: ["EURUSD", "ZZZ123"]}},
            code="BAD_USER_INPUT",
        )
        assert "ZZZ123" in error["message"]
