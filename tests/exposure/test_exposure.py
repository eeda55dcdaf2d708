"""Exposure, equity, drawdown and daily P&L as the API reports them, with exact figures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
import pytest

from db.tables import accounts, exposure_snapshots, risk_profiles
from riskgate.app import create_app
from riskgate.settings import Settings
from tests.support.client import GraphQLClient
from tests.support.clock import Clock
from tests.support.databases import count_rows
from tests.support.documents import OPEN
from tests.support.events import cash_flow, close_trade, open_input, open_trade, set_marks
from tests.support.reports import by_direction, by_instrument, exposure, global_exposure
from tests.support.settings import make_settings

NOON = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def fixed_clock(clock: Clock) -> Clock:
    clock.set(NOON)
    return clock


async def test_exposure_by_instrument_and_direction_after_opens(
    api: GraphQLClient, fixed_clock: Clock
) -> None:
    trade = await open_trade(api, "t1", "alice", instrument="EURUSD", volume="0.10", price="1.1000")
    assert trade["status"] == "OPEN"
    assert trade["volume"] == "0.10"
    await open_trade(
        api, "t2", "alice", instrument="USDJPY", direction="SELL", volume="0.20", price="150.00"
    )
    await open_trade(api, "t3", "alice", instrument="eurusd", volume="0.20", price="1.2000")
    await open_trade(
        api, "t4", "alice", instrument="EURUSD", direction="SELL", volume="0.05", price="1.1000"
    )
    await open_trade(api, "t5", "alice", instrument="XAUUSD", volume="0.05", price="2300.50")
    await open_trade(api, "t6", "alice", instrument="GER40", volume="1.00", price="18000")

    report = await exposure(api, "alice")
    # volume × contract size × price × quote-to-account rate
    assert by_instrument(report) == {
        "EURUSD": ("0.35", "40500.00"),  # 11000 + 24000 + 5500
        "USDJPY": ("0.20", "20100.00"),  # 0.20 × 100000 × 150 × 0.0067
        "XAUUSD": ("0.05", "11502.50"),  # 0.05 × 100 × 2300.50
        "GER40": ("1.00", "19440.00"),  # 1 × 1 × 18000 × 1.08
    }
    assert by_direction(report) == {"BUY": "65942.50", "SELL": "25600.00"}
    assert report["totalExposure"] == "91542.50"
    assert report["openPositionsCount"] == 6
    assert report["reservedPositionsCount"] == 0
    assert report["equity"] == "0.00"
    assert report["dailyPnl"] == "0.00"
    assert report["currentDrawdownPercent"] == "0.00"
    # Another client sees none of it.
    other = await exposure(api, "bob")
    assert other["totalExposure"] == "0.00"
    assert other["byInstrument"] == []
    assert other["openPositionsCount"] == 0


async def test_reading_exposure_never_writes(
    api: GraphQLClient, fixed_clock: Clock, settings: Settings
) -> None:
    await open_trade(api, "t1", "alice")
    tables = (accounts, risk_profiles, exposure_snapshots)
    before = [await count_rows(settings, t) for t in tables]
    for client in ("alice", "stranger"):
        await exposure(api, client)
        await api.ok(
            "query($c: String) { exposureHistory(clientId: $c) { equity } }", {"c": client}
        )
    await global_exposure(api)
    await api.ok("{ exposure { equity } }", role="client", sub="newcomer")
    assert [await count_rows(settings, t) for t in tables] == before
    stranger = await exposure(api, "stranger")
    assert (stranger["equity"], stranger["totalExposure"], stranger["byInstrument"]) == (
        "0.00",
        "0.00",
        [],
    )


async def test_closes_remove_exposure_and_realize_pnl(
    api: GraphQLClient, fixed_clock: Clock
) -> None:
    await open_trade(api, "t1", "alice", instrument="EURUSD", volume="0.10", price="1.1000")
    await open_trade(api, "t2", "alice", instrument="EURUSD", volume="0.20", price="1.2000")
    await open_trade(
        api, "t3", "alice", instrument="USDJPY", direction="SELL", volume="0.20", price="150.00"
    )

    closed = await close_trade(api, "t1", "alice", "1.1050")
    assert closed["status"] == "CLOSED"
    assert closed["realizedPnl"] == "50.00"  # (1.1050 − 1.1000) × 0.10 × 100000
    report = await exposure(api, "alice")
    assert by_instrument(report) == {"EURUSD": ("0.20", "24000.00"), "USDJPY": ("0.20", "20100.00")}
    assert report["openPositionsCount"] == 2
    assert report["equity"] == "50.00"
    assert report["dailyPnl"] == "50.00"

    closed = await close_trade(api, "t3", "alice", "149.00")
    assert closed["realizedPnl"] == "134.00"  # a SELL gains when the price falls; JPY at 0.0067
    closed = await close_trade(api, "t2", "alice", "1.1000", pnl="-1012.35")
    assert closed["realizedPnl"] == "-1012.35"  # the broker-booked figure wins

    report = await exposure(api, "alice")
    assert report["byInstrument"] == []
    assert by_direction(report) == {"BUY": "0.00", "SELL": "0.00"}
    assert report["totalExposure"] == "0.00"
    assert report["openPositionsCount"] == 0
    assert report["equity"] == "-828.35"
    assert report["dailyPnl"] == "-828.35"


async def test_marks_move_exposure_equity_unrealized_and_drawdown(
    api: GraphQLClient, fixed_clock: Clock
) -> None:
    await cash_flow(api, "dep", "alice", "10000")
    await open_trade(api, "t1", "alice", instrument="EURUSD", volume="1.00", price="1.1000")
    await open_trade(
        api, "t2", "alice", instrument="USDJPY", direction="SELL", volume="0.10", price="150.00"
    )
    report = await exposure(api, "alice")
    assert report["totalExposure"] == "120050.00"  # 110000 + 10050, at entry prices
    assert report["equity"] == "10000.00"

    assert await set_marks(api, {"instrument": "EURUSD", "price": "1.1100"}) == 1
    report = await exposure(api, "alice")
    assert by_instrument(report)["EURUSD"] == ("1.00", "111000.00")
    assert report["equity"] == "11000.00"  # +0.0100 × 100000 unrealized
    assert report["dailyPnl"] == "1000.00"
    assert report["currentDrawdownPercent"] == "0.00"

    await set_marks(api, {"instrument": "EURUSD", "price": "1.0900"})
    report = await exposure(api, "alice")
    assert by_instrument(report)["EURUSD"] == ("1.00", "109000.00")
    assert report["equity"] == "9000.00"
    assert report["dailyPnl"] == "-1000.00"
    # The mark at 1.1100 made a new high of 11000: (11000 − 9000) / 11000
    assert report["currentDrawdownPercent"] == "18.18"

    # A mark may carry a new quote-to-account rate.
    await set_marks(
        api, {"instrument": "USDJPY", "price": "151.00", "quoteToAccountRate": "0.0066"}
    )
    report = await exposure(api, "alice")
    assert by_instrument(report)["USDJPY"] == ("0.10", "9966.00")  # 0.1 × 100000 × 151 × 0.0066
    assert report["totalExposure"] == "118966.00"
    assert report["equity"] == "8934.00"  # SELL loses 1.00 × 10000 × 0.0066 = 66
    assert report["currentDrawdownPercent"] == "18.78"  # 2066 / 11000
    assert by_direction(report) == {"BUY": "109000.00", "SELL": "9966.00"}

    catalog = await api.ok("{ instruments { symbol markPrice quoteToAccountRate } }", role="client")
    rows = {i["symbol"]: i for i in catalog["instruments"]}
    assert Decimal(rows["EURUSD"]["markPrice"]) == Decimal("1.09")
    assert Decimal(rows["USDJPY"]["quoteToAccountRate"]) == Decimal("0.0066")

    # Realizing at the mark changes nothing in equity.
    await close_trade(api, "t1", "alice", "1.0900")
    report = await exposure(api, "alice")
    assert report["equity"] == "8934.00"
    assert report["currentDrawdownPercent"] == "18.78"
    assert report["totalExposure"] == "9966.00"


async def test_a_position_opened_away_from_the_mark_moves_equity_at_once(
    api: GraphQLClient, fixed_clock: Clock
) -> None:
    await set_marks(api, {"instrument": "EURUSD", "price": "1.1000"})
    await cash_flow(api, "dep", "alice", "5000")
    await open_trade(api, "t1", "alice", instrument="EURUSD", volume="0.50", price="1.0950")
    report = await exposure(api, "alice")
    assert report["totalExposure"] == "55000.00"  # valued at the mark
    assert report["equity"] == "5250.00"  # 0.0050 × 50000
    assert report["currentDrawdownPercent"] == "0.00"


async def test_drawdown_example_of_the_spec(api: GraphQLClient, fixed_clock: Clock) -> None:
    account = await cash_flow(api, "dep", "alice", "10000")
    assert account["peakEquity"] == "10000.00"
    await open_trade(api, "t1", "alice")
    await close_trade(api, "t1", "alice", "1.1010", pnl="100")
    report = await exposure(api, "alice")
    assert report["equity"] == "10100.00"
    assert report["currentDrawdownPercent"] == "0.00"
    await open_trade(api, "t2", "alice")
    await close_trade(api, "t2", "alice", "1.0995", pnl="-50")
    report = await exposure(api, "alice")
    assert report["equity"] == "10050.00"
    assert report["currentDrawdownPercent"] == "0.50"  # 50 / 10100, not 0 and not 50 / 10000
    assert report["totalExposure"] == "0.00"


async def test_deposits_and_withdrawals_move_no_drawdown(
    api: GraphQLClient, fixed_clock: Clock
) -> None:
    account = await cash_flow(api, "d1", "alice", "10000")
    assert account["currentDrawdownPercent"] == "0.00"
    account = await cash_flow(api, "w1", "alice", "-4000")
    assert (account["equity"], account["peakEquity"]) == ("6000.00", "6000.00")
    assert account["currentDrawdownPercent"] == "0.00"  # a withdrawal is not a loss
    assert account["netCashFlows"] == "6000.00"

    await open_trade(api, "t1", "alice")
    await close_trade(api, "t1", "alice", "1.0700", pnl="-300")
    report = await exposure(api, "alice")
    assert (report["equity"], report["currentDrawdownPercent"]) == ("5700.00", "5.00")
    # Both flows keep the distance from the peak (300): a deposit is not a gain.
    account = await cash_flow(api, "d2", "alice", "4000")
    assert (account["equity"], account["peakEquity"]) == ("9700.00", "10000.00")
    assert account["currentDrawdownPercent"] == "3.00"
    account = await cash_flow(api, "w2", "alice", "-2500")
    assert (account["equity"], account["peakEquity"]) == ("7200.00", "7500.00")
    assert account["currentDrawdownPercent"] == "4.00"
    assert account["realizedPnl"] == "-300.00"
    # Cash flows are not P&L.
    assert (await exposure(api, "alice"))["dailyPnl"] == "-300.00"


async def test_unknown_instrument_is_rejected_and_nothing_stored(
    api: GraphQLClient, fixed_clock: Clock
) -> None:
    await open_trade(api, "t0", "alice", instrument="EURUSD")
    before = await exposure(api, "alice")
    history = await api.ok('{ exposureHistory(clientId: "alice") { totalExposure } }')
    for symbol in ("FOOBAR", "EUR/USD", ""):
        reply = await api.post(OPEN, {"trade": open_input("t1", "alice", instrument=symbol)})
        assert reply.codes == ["BAD_USER_INPUT"], reply.body
        assert reply.errors[0]["extensions"]["field"] == "instrument"
    assert await exposure(api, "alice") == before
    assert await api.ok('{ exposureHistory(clientId: "alice") { totalExposure } }') == history
    # Nothing was kept under the trade id: it is free for a valid trade (no CONFLICT).
    trade = await open_trade(api, "t1", "alice", instrument="GBPUSD", volume="0.10", price="1.25")
    assert trade["instrument"] == "GBPUSD"

    # A batch of marks with one unknown symbol stores none of them.
    reply = await api.post(
        "mutation($p: [MarkPriceInput!]!) { updateMarkPrices(prices: $p) }",
        {"p": [{"instrument": "EURUSD", "price": "1.5"}, {"instrument": "NOPE", "price": "1"}]},
    )
    assert reply.codes == ["BAD_USER_INPUT"]
    assert reply.errors[0]["extensions"]["field"] == "prices[1].instrument"
    catalog = await api.ok("{ instruments { symbol markPrice } }")
    assert {i["symbol"]: i["markPrice"] for i in catalog["instruments"]}["EURUSD"] is None


async def test_global_exposure_sums_over_clients(api: GraphQLClient, fixed_clock: Clock) -> None:
    await open_trade(api, "a1", "alice", instrument="EURUSD", volume="0.10", price="1.1000")
    await open_trade(
        api, "a2", "alice", instrument="USDJPY", direction="SELL", volume="0.20", price="150.00"
    )
    await open_trade(api, "b1", "bob", instrument="EURUSD", volume="0.30", price="1.2000")
    await open_trade(api, "b2", "bob", instrument="XAUUSD", volume="0.05", price="2300.50")
    await open_trade(api, "a3", "alice", instrument="GBPUSD", volume="0.10", price="1.25")
    await close_trade(api, "a3", "alice", "1.26", pnl="120")
    await open_trade(api, "b3", "bob", instrument="GBPUSD", volume="0.10", price="1.25")
    await close_trade(api, "b3", "bob", "1.24", pnl="-75")

    platform = await global_exposure(api)
    assert platform["totalPlatformExposure"] == "78602.50"
    assert platform["totalOpenPositions"] == 4
    assert by_instrument(platform) == {
        "EURUSD": ("0.40", "47000.00"),
        "USDJPY": ("0.20", "20100.00"),
        "XAUUSD": ("0.05", "11502.50"),
    }
    assert platform["maxExposureLimit"] == "500000.00"
    assert platform["maxPositionsLimit"] == 50
    assert platform["exposureUtilizationPercent"] == "15.72"  # 78602.50 / 500000
    assert platform["positionsUtilizationPercent"] == "8.00"  # 4 / 50
    assert platform["dailyPlatformPnl"] == "45.00"  # 120 − 75
    assert platform["maxDailyLoss"] == "50000.00"
    assert platform["tradingMode"] == "ACTIVE"
    assert (platform["reservedPositions"], platform["reservedExposure"]) == (0, "0.00")

    # With marks the platform's daily P&L is still the sum of the clients'.
    await set_marks(api, {"instrument": "EURUSD", "price": "1.1500"})
    alice, bob = await exposure(api, "alice"), await exposure(api, "bob")
    assert alice["dailyPnl"] == "620.00"  # 120 + 0.05 × 10000
    assert bob["dailyPnl"] == "-1575.00"  # −75 − 0.05 × 30000
    platform = await global_exposure(api)
    assert platform["dailyPlatformPnl"] == "-955.00"
    assert Decimal(platform["totalPlatformExposure"]) == Decimal(alice["totalExposure"]) + Decimal(
        bob["totalExposure"]
    )
    assert platform["totalPlatformExposure"] == "77602.50"  # EURUSD at 0.40 × 100000 × 1.15

    # Utilization follows the limits.
    await api.ok(
        'mutation { updatePlatformLimits(input: {maxTotalExposure: "100000", '
        "maxOpenPositions: 8}) { maxTotalExposure } }",
        role="admin",
    )
    platform = await global_exposure(api)
    assert platform["exposureUtilizationPercent"] == "77.60"
    assert platform["positionsUtilizationPercent"] == "50.00"


HISTORY = """
query History($c: String, $since: DateTime, $until: DateTime, $limit: Int!) {
  exposureHistory(clientId: $c, since: $since, until: $until, limit: $limit) {
    clientId timestamp totalExposure openPositionsCount equity
    byInstrument { instrument volume exposure } byDirection { direction exposure }
  }
}
"""


async def test_exposure_history_has_a_snapshot_after_each_trade_opened(
    api: GraphQLClient, clock: Clock
) -> None:
    times = [NOON + timedelta(minutes=m) for m in (0, 1, 2)]
    clock.set(times[0])
    await open_trade(api, "t1", "alice", instrument="EURUSD", volume="0.10", price="1.1000")
    clock.set(times[1])
    await open_trade(
        api, "t2", "alice", instrument="USDJPY", direction="SELL", volume="0.20", price="150.00"
    )
    clock.set(times[2])
    await open_trade(api, "t3", "alice", instrument="XAUUSD", volume="0.05", price="2300.50")
    await open_trade(api, "b1", "bob", instrument="EURUSD")

    def ask(**kw: object) -> dict[str, object]:
        return {"c": "alice", "since": None, "until": None, "limit": 100, **kw}

    history = (await api.ok(HISTORY, ask()))["exposureHistory"]
    assert [h["totalExposure"] for h in history] == ["42602.50", "31100.00", "11000.00"]
    assert [h["openPositionsCount"] for h in history] == [3, 2, 1]
    assert [datetime.fromisoformat(h["timestamp"]) for h in history] == times[::-1]
    assert {h["clientId"] for h in history} == {"alice"}
    assert by_instrument(history[1]) == {
        "EURUSD": ("0.10", "11000.00"),
        "USDJPY": ("0.20", "20100.00"),
    }
    assert by_direction(history[1]) == {"BUY": "11000.00", "SELL": "20100.00"}

    since = (await api.ok(HISTORY, ask(since=times[1].isoformat())))["exposureHistory"]
    assert [h["totalExposure"] for h in since] == ["42602.50", "31100.00"]
    until = (await api.ok(HISTORY, ask(until=times[1].isoformat())))["exposureHistory"]
    assert [h["totalExposure"] for h in until] == ["11000.00"]
    newest = (await api.ok(HISTORY, ask(limit=1)))["exposureHistory"]
    assert [h["totalExposure"] for h in newest] == ["42602.50"]
    # A client reads its own history without naming itself.
    own = await api.ok(HISTORY, ask(c=None), role="client", sub="alice")
    assert own["exposureHistory"] == history
    # Bad bounds are input errors.
    for bad in (
        ask(limit=0),
        ask(limit=1001),
        ask(since=times[2].isoformat(), until=times[0].isoformat()),
    ):
        assert (await api.post(HISTORY, bad)).codes == ["BAD_USER_INPUT"]


# -- the trading day ----------------------------------------------------------------------


@pytest.fixture
async def ny_api(clean_database: str, clock: Clock) -> AsyncIterator[GraphQLClient]:
    """The app with FX desk days: 17:00 America/New_York."""
    settings = make_settings(
        clean_database, trading_day_timezone="America/New_York", trading_day_start_hour=17
    )
    app = create_app(settings, now=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://riskgate.test") as http:
            yield GraphQLClient(http, settings)


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)  # type: ignore[misc]


async def close_at(api: GraphQLClient, trade_id: str, client: str, at: datetime, pnl: str) -> None:
    await open_trade(api, trade_id, client, openedAt=(at - timedelta(hours=1)).isoformat())
    await close_trade(api, trade_id, client, "1.1", pnl=pnl, closedAt=at.isoformat())


async def test_daily_pnl_counts_only_the_current_new_york_trading_day(
    ny_api: GraphQLClient, clock: Clock
) -> None:
    api = ny_api
    clock.set(ny(2025, 3, 4, 18, 0))  # Tuesday 18:00 EST: the day began at 17:00
    await close_at(api, "before", "alice", ny(2025, 3, 4, 16, 59), "100")
    await close_at(api, "after", "alice", ny(2025, 3, 4, 17, 1), "40")
    await close_at(api, "utc-today", "alice", ny(2025, 3, 4, 12, 0), "7")  # same UTC date
    report = await exposure(api, "alice")
    assert report["dailyPnl"] == "40.00"
    assert report["equity"] == "147.00"
    await close_at(api, "bob-after", "bob", ny(2025, 3, 4, 17, 30), "-15")
    assert (await global_exposure(api))["dailyPlatformPnl"] == "25.00"

    clock.set(ny(2025, 3, 5, 16, 59))  # next calendar day, same trading day
    assert (await exposure(api, "alice"))["dailyPnl"] == "40.00"
    clock.set(ny(2025, 3, 5, 17, 0))  # a new trading day
    assert (await exposure(api, "alice"))["dailyPnl"] == "0.00"
    assert (await global_exposure(api))["dailyPlatformPnl"] == "0.00"
    # A close that arrives late is booked on the day of its closedAt, not of its arrival.
    await close_at(api, "late", "alice", ny(2025, 3, 5, 16, 0), "500")
    assert (await exposure(api, "alice"))["dailyPnl"] == "0.00"
    await close_at(api, "new-day", "alice", ny(2025, 3, 5, 17, 0), "-20")
    assert (await exposure(api, "alice"))["dailyPnl"] == "-20.00"


async def test_trading_day_boundary_follows_daylight_saving_time(
    ny_api: GraphQLClient, clock: Clock
) -> None:
    api = ny_api
    # Clocks went forward on Sunday 9 March 2025: 17:00 EDT is 21:00 UTC (it was 22:00).
    clock.set(datetime(2025, 3, 9, 21, 30, tzinfo=UTC))
    await close_at(api, "edt-before", "alice", datetime(2025, 3, 9, 20, 45, tzinfo=UTC), "11")
    await close_at(api, "edt-after", "alice", datetime(2025, 3, 9, 21, 15, tzinfo=UTC), "22")
    assert (await exposure(api, "alice"))["dailyPnl"] == "22.00"

    # Clocks went back on Sunday 2 November 2025: 17:00 EST is 22:00 UTC again.
    clock.set(datetime(2025, 11, 2, 21, 30, tzinfo=UTC))  # 16:30 EST: day of Saturday 1 Nov
    await close_at(api, "est-before", "bob", datetime(2025, 11, 1, 20, 30, tzinfo=UTC), "5")
    await close_at(api, "est-today", "bob", datetime(2025, 11, 2, 21, 10, tzinfo=UTC), "50")
    assert (await exposure(api, "bob"))["dailyPnl"] == "50.00"
    # The Saturday trading day started 17:00 EDT = 21:00 UTC on 1 November.
    await close_at(api, "est-start", "bob", datetime(2025, 11, 1, 21, 0, tzinfo=UTC), "3")
    assert (await exposure(api, "bob"))["dailyPnl"] == "53.00"
    clock.set(datetime(2025, 11, 2, 22, 0, tzinfo=UTC))  # 17:00 EST: a new day
    assert (await exposure(api, "bob"))["dailyPnl"] == "0.00"


async def test_deposit_today_is_not_daily_pnl(ny_api: GraphQLClient, clock: Clock) -> None:
    clock.set(ny(2025, 6, 10, 10, 0))
    await cash_flow(ny_api, "dep", "alice", "2500")
    await close_at(ny_api, "t1", "alice", ny(2025, 6, 10, 9, 0), "-30")
    await cash_flow(ny_api, "wd", "alice", "-500")
    report = await exposure(ny_api, "alice")
    assert report["dailyPnl"] == "-30.00"
    assert report["equity"] == "1970.00"


async def test_accepted_trades_never_make_exposure_unreadable(
    api: GraphQLClient, fixed_clock: Clock
) -> None:
    huge = "999999999999999999"  # the largest price the API takes
    for n in range(20):  # 20 × 100 lots × 100,000 × ~1e18 ≈ 2e26: 27 digits before the point
        reply = await api.post(
            OPEN, {"trade": open_input(f"t{n}", "alice", volume="100.00", price=huge)}
        )
        if reply.errors:  # refusing such a trade up front is fine too
            assert reply.codes == ["BAD_USER_INPUT"], reply.body
            break
    report = await exposure(api, "alice")
    assert report["clientId"] == "alice"
    await global_exposure(api)
    if report["openPositionsCount"]:
        assert (await close_trade(api, "t0", "alice", "1.1"))["status"] == "CLOSED"
