"""The trade ledger over HTTP: idempotency, conflicts, out-of-order delivery and cash flows."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from db.tables import accounts, client_positions, instrument_positions
from riskgate.settings import Settings
from tests.support.client import GraphQLClient
from tests.support.clock import Clock
from tests.support.documents import CASH, CLOSE, OPEN
from tests.support.events import cash_flow, close_input, close_trade, open_input, open_trade
from tests.support.reports import exposure, global_exposure, without_client

NOON = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)
EARLIER = (NOON - timedelta(hours=2)).isoformat()
LATER = (NOON - timedelta(hours=1)).isoformat()
AHEAD = (NOON + timedelta(hours=1)).isoformat()


@pytest.fixture
def fixed_clock(clock: Clock) -> Clock:
    clock.set(NOON)
    return clock


async def snapshot(api: GraphQLClient, *clients: str) -> dict[str, Any]:
    """Everything observable about some clients and the platform."""
    state: dict[str, Any] = {c: await exposure(api, c) for c in clients}
    state["platform"] = await global_exposure(api)
    return state


# -- idempotency and conflicts -----------------------------------------------------------


async def test_duplicate_open_and_close_return_the_first_result_and_count_once(
    api: GraphQLClient, fixed_clock: Clock
) -> None:
    first = await open_trade(api, "t1", "alice", volume="0.10", price="1.1000")
    assert first["status"] == "OPEN"
    assert datetime.fromisoformat(first["openedAt"]) == NOON  # omitted: when it arrived
    fixed_clock.advance(minutes=3)
    again = await open_trade(api, "t1", "alice", volume="0.10", price="1.1000")
    assert again == first
    # The same payload written differently is the same event.
    same = await open_trade(api, "t1", "alice", instrument="eurusd", volume="0.1", price="1.1")
    assert same == first
    report = await exposure(api, "alice")
    assert (report["openPositionsCount"], report["totalExposure"]) == (1, "11000.00")
    assert (await global_exposure(api))["totalOpenPositions"] == 1

    closed = await close_trade(api, "t1", "alice", "1.1050")
    assert closed["status"] == "CLOSED"
    assert closed["realizedPnl"] == "50.00"
    fixed_clock.advance(minutes=3)
    assert await close_trade(api, "t1", "alice", "1.1050") == closed
    assert await close_trade(api, "t1", "alice", "1.105") == closed
    report = await exposure(api, "alice")
    assert (report["equity"], report["dailyPnl"], report["openPositionsCount"]) == (
        "50.00",
        "50.00",
        0,
    )


OPEN_CONFLICTS: list[dict[str, Any]] = [
    {"volume": "0.20"},
    {"price": "1.1001"},
    {"direction": "SELL"},
    {"instrument": "GBPUSD"},
    {"client_id": "bob"},
    {"signalId": "sig-9"},
    {"stopLoss": "1.0900"},
    {"openedAt": EARLIER},
]


async def test_same_trade_id_with_another_payload_is_a_conflict(
    api: GraphQLClient, fixed_clock: Clock
) -> None:
    await open_trade(api, "t1", "alice", volume="0.10", price="1.1000")
    await open_trade(api, "t2", "alice", volume="0.30", price="1.2000")
    await close_trade(api, "t2", "alice", "1.2100", closedAt=LATER)
    before = await snapshot(api, "alice", "bob")

    for change in OPEN_CONFLICTS:
        change = dict(change)
        client = change.pop("client_id", "alice")
        kwargs = {"volume": "0.10", "price": "1.1000", **change}
        reply = await api.post(OPEN, {"trade": open_input("t1", client, **kwargs)})
        assert reply.codes == ["CONFLICT"], (change, reply.body)
        assert reply.data is None

    for change in ({"exit_price": "1.2101"}, {"pnl": "1000"}, {"closedAt": EARLIER}):
        change = dict(change)
        exit_price = change.pop("exit_price", "1.2100")
        closing = close_input("t2", "alice", exit_price, **{"closedAt": LATER, **change})
        reply = await api.post(CLOSE, {"trade": closing})
        assert reply.codes == ["CONFLICT"], (change, reply.body)
    reply = await api.post(CLOSE, {"trade": close_input("t2", "bob", "1.2100", closedAt=LATER)})
    assert reply.codes == ["CONFLICT"]
    # Closing an open trade for another client is refused too.
    reply = await api.post(CLOSE, {"trade": close_input("t1", "bob", "1.1000")})
    assert reply.codes == ["CONFLICT"]

    assert await snapshot(api, "alice", "bob") == before
    # The originals still replay cleanly.
    assert (await open_trade(api, "t1", "alice", volume="0.10", price="1.1000"))["status"] == "OPEN"


async def test_a_close_before_its_open_waits_and_ends_as_in_order_delivery(
    api: GraphQLClient, fixed_clock: Clock
) -> None:
    opening = {"instrument": "USDJPY", "direction": "SELL", "volume": "0.20", "price": "150.00"}
    closing = {"closedAt": LATER}

    # bob: in order.
    await cash_flow(api, "bob-dep", "bob", "5000")
    await open_trade(api, "b1", "bob", openedAt=EARLIER, **opening)
    await open_trade(api, "b2", "bob", openedAt=EARLIER)
    in_order = await close_trade(api, "b1", "bob", "149.00", **closing)

    # alice: the close first.
    await cash_flow(api, "alice-dep", "alice", "5000")
    early = await close_trade(api, "a1", "alice", "149.00", **closing)
    assert early["status"] == "AWAITING_OPEN"
    assert (early["instrument"], early["volume"], early["realizedPnl"]) == (None, None, None)
    assert datetime.fromisoformat(early["closedAt"]) == datetime.fromisoformat(LATER)
    # Waiting closes move nothing, and a repeat of one is the same event.
    assert await close_trade(api, "a1", "alice", "149.00", **closing) == early
    report = await exposure(api, "alice")
    assert (report["openPositionsCount"], report["equity"]) == (0, "5000.00")
    # A different close for the same trade is a conflict while it waits.
    reply = await api.post(CLOSE, {"trade": close_input("a1", "alice", "148.00", **closing)})
    assert reply.codes == ["CONFLICT"]
    # So is an open for another client.
    reply = await api.post(OPEN, {"trade": open_input("a1", "bob", openedAt=EARLIER, **opening)})
    assert reply.codes == ["CONFLICT"]

    opened = await open_trade(api, "a1", "alice", openedAt=EARLIER, **opening)
    await open_trade(api, "a2", "alice", openedAt=EARLIER)
    assert opened["status"] == "CLOSED"
    assert opened["realizedPnl"] == in_order["realizedPnl"] == "134.00"
    # Late repeats of either event change nothing.
    assert await close_trade(api, "a1", "alice", "149.00", **closing) == opened
    again = await open_trade(api, "a1", "alice", openedAt=EARLIER, **opening)
    assert again == opened

    alice, bob = await exposure(api, "alice"), await exposure(api, "bob")
    assert without_client(alice) == without_client(bob)
    assert alice["equity"] == "5134.00"
    assert alice["openPositionsCount"] == 1
    assert alice["totalExposure"] == "11000.00"


async def test_counts_never_go_negative(
    api: GraphQLClient, fixed_clock: Clock, settings: Settings
) -> None:
    await open_trade(api, "t1", "alice")
    await close_trade(api, "t1", "alice", "1.1")
    for _ in range(3):
        await close_trade(api, "t1", "alice", "1.1")
    # Closes of trades never opened wait and take nothing away.
    for n in range(3):
        assert (await close_trade(api, f"ghost{n}", "alice", "1.1"))["status"] == "AWAITING_OPEN"
    report = await exposure(api, "alice")
    assert (report["openPositionsCount"], report["totalExposure"]) == (0, "0.00")
    platform = await global_exposure(api)
    assert (platform["totalOpenPositions"], platform["byInstrument"]) == (0, [])

    # A new open counts from zero, not from below it.
    await open_trade(api, "t2", "alice")
    assert (await exposure(api, "alice"))["openPositionsCount"] == 1

    engine = create_async_engine(settings.database_url)
    try:
        async with engine.connect() as conn:
            counts = [
                *(await conn.execute(select(accounts.c.open_positions))).scalars(),
                *(await conn.execute(select(client_positions.c.open_count))).scalars(),
                *(await conn.execute(select(instrument_positions.c.open_count))).scalars(),
            ]
            volumes = [
                *(await conn.execute(select(client_positions.c.volume))).scalars(),
                *(await conn.execute(select(instrument_positions.c.volume))).scalars(),
            ]
    finally:
        await engine.dispose()
    assert counts and min(counts) >= 0
    assert min(volumes) >= 0


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"volume": "0"}, "volume"),
        ({"volume": "0.015"}, "volume"),
        ({"volume": "-1"}, "volume"),
        ({"volume": "100.01"}, "volume"),
        ({"price": "0"}, "entryPrice"),
        ({"price": "-1.1"}, "entryPrice"),
        ({"stopLoss": "0"}, "stopLoss"),
        ({"openedAt": AHEAD}, "openedAt"),
        ({"tradeId": ""}, "tradeId"),
        ({"tradeId": "x" * 129}, "tradeId"),
        ({"clientId": "not a client"}, "clientId"),
        ({"signalId": ""}, "signalId"),
    ],
)
async def test_invalid_opens_are_rejected_and_nothing_stored(
    api: GraphQLClient, fixed_clock: Clock, payload: dict[str, Any], field: str
) -> None:
    trade = open_input("t1", "alice", **payload)  # the payload overrides any default
    before = await snapshot(api, "alice")
    reply = await api.post(OPEN, {"trade": trade})
    assert reply.codes == ["BAD_USER_INPUT"], reply.body
    assert reply.errors[0]["extensions"]["field"] == field, reply.body
    assert await snapshot(api, "alice") == before


@pytest.mark.parametrize(
    ("exit_price", "extra", "field"),
    [
        ("0", {}, "exitPrice"),
        ("-2", {}, "exitPrice"),
        ("1.1", {"closedAt": "2025-06-10T12:30:00+00:00"}, "closedAt"),
    ],
)
async def test_invalid_closes_are_rejected_and_nothing_stored(
    api: GraphQLClient, fixed_clock: Clock, exit_price: str, extra: dict[str, Any], field: str
) -> None:
    await open_trade(api, "t1", "alice")
    before = await snapshot(api, "alice")
    reply = await api.post(CLOSE, {"trade": close_input("t1", "alice", exit_price, **extra)})
    assert reply.codes == ["BAD_USER_INPUT"], reply.body
    assert reply.errors[0]["extensions"]["field"] == field
    assert await snapshot(api, "alice") == before
    assert (await close_trade(api, "t1", "alice", "1.1"))["status"] == "CLOSED"


# -- any order of the same events ends in the same state ---------------------------------

Event = Callable[[GraphQLClient, str], Any]


def _events() -> dict[str, Event]:
    """Events for one client; ids carry the client so every run is independent."""
    sell_jpy = {"instrument": "USDJPY", "direction": "SELL", "volume": "0.20", "price": "150.00"}

    async def deposit(api: GraphQLClient, c: str) -> None:
        await cash_flow(api, f"{c}-dep", c, "10000", occurredAt=EARLIER)

    async def open1(api: GraphQLClient, c: str) -> None:
        await open_trade(api, f"{c}-t1", c, volume="0.10", price="1.1000", openedAt=EARLIER)

    async def close1(api: GraphQLClient, c: str) -> None:
        await close_trade(api, f"{c}-t1", c, "1.0950", closedAt=LATER)  # −50 at the exit price

    async def open2(api: GraphQLClient, c: str) -> None:
        await open_trade(api, f"{c}-t2", c, openedAt=EARLIER, **sell_jpy)

    async def open3(api: GraphQLClient, c: str) -> None:
        await open_trade(
            api, f"{c}-t3", c, instrument="XAUUSD", volume="0.01", price="2000", openedAt=EARLIER
        )

    async def close3(api: GraphQLClient, c: str) -> None:
        await close_trade(api, f"{c}-t3", c, "1990", pnl="-20.25", closedAt=LATER)

    return {
        "deposit": deposit,
        "open1": open1,
        "close1": close1,
        "open2": open2,
        "open3": open3,
        "close3": close3,
    }


EVENTS = _events()


def distinct_orders(names: list[str]) -> list[tuple[str, ...]]:
    return sorted(set(itertools.permutations(names)))


async def _converges(
    api: GraphQLClient, orders: list[tuple[str, ...]], expected: dict[str, Any]
) -> None:
    for n, order in enumerate(orders):
        client = f"c{n}"
        for name in order:
            await EVENTS[name](api, client)
        report = await exposure(api, client)
        assert report["clientId"] == client
        assert without_client(report) == expected, order


async def test_every_order_of_open_close_duplicate_and_deposit_converges(
    api: GraphQLClient, fixed_clock: Clock
) -> None:
    orders = distinct_orders(["deposit", "open1", "close1", "close1", "open2"])
    assert len(orders) == 60
    expected = {
        "totalExposure": "20100.00",
        "byInstrument": [{"instrument": "USDJPY", "volume": "0.20", "exposure": "20100.00"}],
        "byDirection": [
            {"direction": "BUY", "exposure": "0.00"},
            {"direction": "SELL", "exposure": "20100.00"},
        ],
        "openPositionsCount": 1,
        "reservedPositionsCount": 0,
        "reservedExposure": "0.00",
        "equity": "9950.00",
        "currentDrawdownPercent": "0.50",
        "dailyPnl": "-50.00",
    }
    await _converges(api, orders, expected)
    platform = await global_exposure(api)
    assert platform["totalOpenPositions"] == 60
    assert platform["dailyPlatformPnl"] == "-3000.00"


async def test_sampled_orders_of_a_larger_event_set_converge(
    api: GraphQLClient, fixed_clock: Clock
) -> None:
    names = ["deposit", "open1", "close1", "close1", "open2", "open2", "open3", "close3"]
    orders = random.Random(20250610).sample(distinct_orders(names), 12)
    expected = {
        "totalExposure": "20100.00",
        "byInstrument": [{"instrument": "USDJPY", "volume": "0.20", "exposure": "20100.00"}],
        "byDirection": [
            {"direction": "BUY", "exposure": "0.00"},
            {"direction": "SELL", "exposure": "20100.00"},
        ],
        "openPositionsCount": 1,
        "reservedPositionsCount": 0,
        "reservedExposure": "0.00",
        "equity": "9929.75",
        "currentDrawdownPercent": "0.70",  # 70.25 / 10000
        "dailyPnl": "-70.25",
    }
    await _converges(api, orders, expected)


# -- cash flows --------------------------------------------------------------------------


async def test_cash_flows_are_idempotent_and_conflicts_change_nothing(
    api: GraphQLClient, fixed_clock: Clock
) -> None:
    first = await cash_flow(api, "f1", "alice", "1000.50")
    assert (first["balance"], first["netCashFlows"], first["equity"]) == (
        "1000.50",
        "1000.50",
        "1000.50",
    )
    fixed_clock.advance(minutes=1)
    assert await cash_flow(api, "f1", "alice", "1000.50") == first
    assert await cash_flow(api, "f1", "alice", "1000.5000") == first

    dated = await cash_flow(api, "f2", "alice", "-200", occurredAt=EARLIER)
    assert dated["balance"] == "800.50"
    assert await cash_flow(api, "f2", "alice", "-200", occurredAt=EARLIER) == dated

    before = await snapshot(api, "alice", "bob")
    conflicts = [
        {"flowId": "f1", "clientId": "alice", "amount": "1000.51"},
        {"flowId": "f1", "clientId": "alice", "amount": "-1000.50"},
        {"flowId": "f1", "clientId": "bob", "amount": "1000.50"},
        {"flowId": "f1", "clientId": "alice", "amount": "1000.50", "occurredAt": EARLIER},
        {"flowId": "f2", "clientId": "alice", "amount": "-200", "occurredAt": LATER},
        {"flowId": "f2", "clientId": "alice", "amount": "-200"},
    ]
    for flow in conflicts:
        reply = await api.post(CASH, {"flow": flow})
        assert reply.codes == ["CONFLICT"], (flow, reply.body)
    for flow, field in (
        ({"flowId": "f3", "clientId": "alice", "amount": "0"}, "amount"),
        ({"flowId": "", "clientId": "alice", "amount": "5"}, "flowId"),
        ({"flowId": "f3", "clientId": "alice", "amount": "5", "occurredAt": AHEAD}, "occurredAt"),
    ):
        reply = await api.post(CASH, {"flow": flow})
        assert reply.codes == ["BAD_USER_INPUT"], (flow, reply.body)
        assert reply.errors[0]["extensions"]["field"] == field
    assert await snapshot(api, "alice", "bob") == before


async def test_withdrawal_lowers_balance_and_equity(api: GraphQLClient, fixed_clock: Clock) -> None:
    await cash_flow(api, "in", "alice", "1000")
    account = await cash_flow(api, "out", "alice", "-300")
    assert account == {
        "clientId": "alice",
        "balance": "700.00",
        "equity": "700.00",
        "peakEquity": "700.00",
        "currentDrawdownPercent": "0.00",
        "netCashFlows": "700.00",
        "realizedPnl": "0.00",
        "openPositionsCount": 0,
    }
    report = await exposure(api, "alice")
    assert (report["equity"], report["dailyPnl"]) == ("700.00", "0.00")


async def test_open_naming_a_signal_without_reservation_is_harmless(
    api: GraphQLClient, fixed_clock: Clock
) -> None:
    trade = await open_trade(api, "t1", "alice", signalId="sig-unknown")
    assert (trade["status"], trade["signalId"]) == ("OPEN", "sig-unknown")
    report = await exposure(api, "alice")
    assert (report["openPositionsCount"], report["reservedPositionsCount"]) == (1, 0)
    assert report["totalExposure"] == "11000.00"
    platform = await global_exposure(api)
    assert (platform["totalOpenPositions"], platform["reservedPositions"]) == (1, 0)
    # Another client's trade naming the same signal does not disturb alice.
    await open_trade(api, "t2", "bob", signalId="sig-unknown")
    assert await exposure(api, "alice") == report
    assert (await global_exposure(api))["totalOpenPositions"] == 2


async def test_a_waiting_close_without_closed_at_is_booked_when_it_arrived(
    api: GraphQLClient, clock: Clock
) -> None:
    day_one = datetime(2025, 6, 10, 23, 50, tzinfo=UTC)
    opened_at = (day_one - timedelta(hours=1)).isoformat()
    clock.set(day_one)
    await open_trade(api, "b1", "bob", openedAt=opened_at)
    in_order = await close_trade(api, "b1", "bob", "1.1050")  # closedAt omitted: now
    assert (await close_trade(api, "a1", "alice", "1.1050"))["status"] == "AWAITING_OPEN"

    clock.set(day_one + timedelta(minutes=20))  # the next (UTC) trading day
    late = await open_trade(api, "a1", "alice", openedAt=opened_at)
    assert late["closedAt"] == in_order["closedAt"]
    alice, bob = await exposure(api, "alice"), await exposure(api, "bob")
    assert bob["dailyPnl"] == "0.00"
    assert without_client(alice) == without_client(bob)
