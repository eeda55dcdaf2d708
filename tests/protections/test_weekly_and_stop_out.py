"""MAX_WEEKLY_LOSS across a New York week boundary, its breaker, and the stop-out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.protections.helpers import audit_entries
from tests.support.client import GraphQLClient, assert_granted, instance
from tests.support.clock import Clock
from tests.support.documents import CLOSE, MARKS
from tests.support.events import close_at, open_trade, prepared_client, set_mode
from tests.support.reports import alerts, levels
from tests.support.signals import check, signal, violated, violation

# Sunday 1 March 2026, 17:00 in New York (EST) is 22:00 UTC: an FX desk's week opens.
FX_WEEK_OPENS = datetime(2026, 3, 1, 22, 0, tzinfo=UTC)
MODE_OF = "query M($c: String) { riskProfile(clientId: $c) { tradingMode } }"


async def test_weekly_loss_follows_the_new_york_week(clean_database: str, clock: Clock) -> None:
    clock.set(FX_WEEK_OPENS - timedelta(minutes=30))
    async with instance(
        clean_database,
        clock,
        trading_day_timezone="America/New_York",
        trading_day_start_hour=17,
    ) as api:
        await prepared_client(api, "fx", "10000", maxWeeklyLoss="500")
        await close_at(api, "fx-1", "fx", "-500", FX_WEEK_OPENS - timedelta(minutes=30))
        result = await check(api, signal("fx-s1", "fx", "0.01"), dry_run=True)
        assert violated(result) == {"MAX_WEEKLY_LOSS"}
        clock.set(FX_WEEK_OPENS - timedelta(microseconds=1))
        assert violated(await check(api, signal("fx-s2", "fx", "0.01"), dry_run=True)) == {
            "MAX_WEEKLY_LOSS"
        }
        # 17:00 New York on Sunday: a new week, nothing lost in it yet.
        clock.set(FX_WEEK_OPENS)
        assert (await check(api, signal("fx-s3", "fx", "0.01"), dry_run=True))["passes"]
        # Losses on Monday and Tuesday add up within the week (each on its own day).
        monday = FX_WEEK_OPENS + timedelta(hours=17)
        clock.set(monday)
        await close_at(api, "fx-2", "fx", "-300", monday)
        tuesday = monday + timedelta(days=1)
        clock.set(tuesday)
        await close_at(api, "fx-3", "fx", "-150", tuesday)
        # 450 lost; a stop risking exactly 50 more reaches the cap and passes, 51 fails.
        at_cap = await check(api, signal("fx-s4", "fx", "0.10", stop="0.9950"), dry_run=True)
        assert at_cap["passes"], at_cap["violations"]
        over = await check(api, signal("fx-s5", "fx", "0.10", stop="0.9949"), dry_run=True)
        assert violated(over) == {"MAX_WEEKLY_LOSS"}
        found = violation(over, "MAX_WEEKLY_LOSS")
        assert found is not None and (found["limit"], found["current"]) == ("500.00", "501.00")
        assert levels(await alerts(api, "fx"), "CLIENT_WEEKLY_LOSS") == [
            ("OK", "CRITICAL"),
            ("CRITICAL", "OK"),
            ("OK", "WARNING"),
        ]


async def test_stop_out_halts_until_the_mode_is_set_back(api: GraphQLClient, settings: Any) -> None:
    await prepared_client(api, "alice", "10000", stopOutOnBreach=True, maxPositionSize="10.00")
    await prepared_client(api, "bob", "10000", maxPositionSize="10.00")
    await open_trade(api, "a-1", "alice", "1.00", price="1.1000")
    await open_trade(api, "b-1", "bob", "1.00", price="1.1000")
    # EURUSD 250 pips down: 2,500 lost on 10,000, a 25 % drawdown (CRITICAL at 20 %).
    await api.ok(MARKS, {"prices": [{"instrument": "EURUSD", "price": "1.0750"}]})
    assert (await api.ok(MODE_OF, {"c": "alice"}))["riskProfile"]["tradingMode"] == "HALTED"
    assert (await api.ok(MODE_OF, {"c": "bob"}))["riskProfile"]["tradingMode"] == "ACTIVE"
    [mode_alert] = [a for a in await alerts(api, "alice") if a["kind"] == "TRADING_MODE"]
    assert (mode_alert["previousLevel"], mode_alert["level"]) == ("OK", "CRITICAL")
    assert "stop-out" in mode_alert["message"] and "drawdown" in mode_alert["message"]
    [entry] = await audit_entries(settings, client_id="alice", action="trading_mode.stop_out")
    assert entry.reason is not None and "drawdown" in entry.reason
    assert entry.new_values == {"trading_mode": "HALTED"}
    # Marks recover: the drawdown is gone, the stop-out stays.
    await api.ok(MARKS, {"prices": [{"instrument": "EURUSD", "price": "1.1000"}]})
    halted = await check(api, signal("a-s1", "alice", "0.01"))
    assert violated(halted) == {"TRADING_HALTED"}
    assert (await api.ok(MODE_OF, {"c": "alice"}))["riskProfile"]["tradingMode"] == "HALTED"
    # Only an explicit mode change lifts it.
    assert_granted(await set_mode(api, "ACTIVE", "alice"))
    assert (await check(api, signal("a-s2", "alice", "0.01")))["passes"]


async def test_daily_loss_breach_stops_out_a_client_that_asked(api: GraphQLClient) -> None:
    await prepared_client(api, "carol", "10000", stopOutOnBreach=True, maxDailyLoss="100")
    await open_trade(api, "c-1", "carol", "0.01", price="1.0000")
    now = datetime.now(UTC)
    await api.ok(
        CLOSE,
        {
            "trade": {
                "tradeId": "c-1",
                "clientId": "carol",
                "exitPrice": "1.0000",
                "pnl": "-99.99",
                "closedAt": now.isoformat(),
            }
        },
    )
    assert (await api.ok(MODE_OF, {"c": "carol"}))["riskProfile"]["tradingMode"] == "ACTIVE"
    await close_at(api, "c-2", "carol", "-0.01", now)
    assert (await api.ok(MODE_OF, {"c": "carol"}))["riskProfile"]["tradingMode"] == "HALTED"
    [mode_alert] = [a for a in await alerts(api, "carol") if a["kind"] == "TRADING_MODE"]
    assert "daily loss" in mode_alert["message"]
